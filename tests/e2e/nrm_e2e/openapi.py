"""The OpenAPI document (nrm-api/openapi.yaml) and validators for its
component schemas, with formats checked."""

import jsonschema
import yaml

from .env import OPENAPI

# libyaml's parser when PyYAML has it (Debian's python3-yaml does) under
# the same safe constructors: openapi.yaml in 0.13 s instead of 1.3 s,
# and the suite parses it about twenty times.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text):
    """yaml.safe_load, with SAFE_LOADER."""
    return yaml.load(text, Loader=SAFE_LOADER)


def load_openapi():
    """The parsed OpenAPI document."""
    with open(OPENAPI) as f:
        return safe_load(f)


def validator(doc, name):
    """A Draft 2020-12 validator of components/schemas/`name` in `doc`."""
    resolver = jsonschema.RefResolver.from_schema(doc)
    return jsonschema.Draft202012Validator(
        {"$ref": "#/components/schemas/" + name}, resolver=resolver,
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
