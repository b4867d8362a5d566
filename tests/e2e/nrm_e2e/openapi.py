"""The OpenAPI document (nrm-api/openapi.yaml) and validators for its
component schemas, with formats checked."""

import jsonschema
import yaml

from .env import OPENAPI


def load_openapi():
    """The parsed OpenAPI document."""
    with open(OPENAPI) as f:
        return yaml.safe_load(f)


def validator(doc, name):
    """A Draft 2020-12 validator of components/schemas/`name` in `doc`."""
    resolver = jsonschema.RefResolver.from_schema(doc)
    return jsonschema.Draft202012Validator(
        {"$ref": "#/components/schemas/" + name}, resolver=resolver,
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
