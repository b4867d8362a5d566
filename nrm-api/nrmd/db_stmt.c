/*
 * db_stmt.c - the statement table: the name and SQL of every statement
 * the pool prepares on each connection (enum nrm_stmt, db.h).
 */
#include "db_int.h"

/*
 * The prepared statements, each named after the api.* function it
 * calls.  A request's call (DB_REQ) passes token_hash, request_id and
 * client as $1..$3 (see dbapi.h), then its own parameters.
 */
/* clang-format off */
#define DB_API(fn, args) {#fn, "SELECT api." #fn "(" args ")"}
/* clang-format on */
#define DB_REQ(fn, args) DB_API(fn, "$1, $2, $3, " args)

const struct nrm_db_stmt nrm_db_stmts[NRM_STMT__COUNT] = {
    [NRM_STMT_SCHEMA_VERSION] = {"schema_version",
	"SELECT api.schema_version(), api.schema_checksum(), "
	"current_setting('synchronous_commit'), "
	"current_setting('synchronous_standby_names')"},
    [NRM_STMT_INTAKE] = DB_REQ(intake, "$4, $5, $6, $7, $8, $9"),
    [NRM_STMT_SIGNAL_RECEIPT] = DB_REQ(signal_receipt, "$4"),
    [NRM_STMT_AUTHORIZE] = DB_REQ(authorize, "$4, $5, $6, $7"),
    [NRM_STMT_RECORD] = DB_REQ(record, "$4, $5, $6, $7"),
    [NRM_STMT_INBOX] =
	DB_REQ(inbox, "$4, $5, $6::jsonb, $7::text, $8::integer, $9::boolean"),
    [NRM_STMT_CASE_GET] = DB_REQ(case_get, "$4::uuid, $5, $6"),
    [NRM_STMT_CASE_TAKE] = DB_REQ(case_take, "$4::uuid, $5::integer"),
    [NRM_STMT_CASE_DECLINE] =
	DB_REQ(case_decline, "$4::uuid, $5::integer, $6, $7::integer"),
    [NRM_STMT_CASE_TRANSFER] = DB_REQ(case_transfer,
	"$4::uuid, $5::integer, $6, $7, $8::integer, $9::integer, "
	"$10::integer"),
    [NRM_STMT_CASE_CLOSE] = DB_REQ(case_close, "$4::uuid, $5::integer, $6"),
    [NRM_STMT_CASE_REOPEN] = DB_REQ(
	case_reopen, "$4::uuid, $5::integer, $6, $7::integer, $8::integer"),
    [NRM_STMT_IDENT_RECORD] = DB_REQ(ident_record, "$4::uuid, $5::jsonb, $6"),
    [NRM_STMT_IDENT_LIST] = DB_REQ(ident_list, "$4::uuid, $5, $6, $7"),
    [NRM_STMT_CASE_SHARE] =
	DB_REQ(case_share, "$4::uuid, $5::uuid, $6::boolean"),
    [NRM_STMT_INVEST_CREATE] = DB_REQ(invest_create, "$4::jsonb"),
    [NRM_STMT_INVEST_GET] = DB_REQ(invest_get, "$4::uuid"),
    [NRM_STMT_INVEST_PATCH] =
	DB_REQ(invest_patch, "$4::uuid, $5::integer, $6::jsonb"),
    [NRM_STMT_ESCALATE] = DB_API(escalate_overdue, "$1::integer"),
    [NRM_STMT_AUDIT_SEAL] = DB_API(audit_seal, "$1::integer"),
    [NRM_STMT_AUDIT_HEAD] = DB_API(audit_head, ""),
    [NRM_STMT_AUDIT_SEARCH] =
	DB_REQ(audit_search, "$4::jsonb, $5::bigint, $6::integer"),
    [NRM_STMT_AUDIT_VERIFY] = DB_REQ(audit_verify, "$4::jsonb"),
    [NRM_STMT_AUDIT_REVIEWS] =
	DB_REQ(audit_reviews, "$4, $5::bigint, $6::integer"),
    [NRM_STMT_AUDIT_REVIEW] = DB_REQ(audit_review, "$4::bigint, $5"),
    /* People (issue 11): enrolment and login carry no token (dbapi.h). */
    [NRM_STMT_PERSON_CREATE] = DB_REQ(
	person_create, "$4, $5, $6::uuid, $7, $8::text[], $9, $10::integer"),
    [NRM_STMT_PERSON_LIST] = DB_REQ(person_list, "$4, $5::integer"),
    [NRM_STMT_PERSON_GET] = DB_REQ(person_get, "$4::uuid"),
    [NRM_STMT_PERSON_DISABLE] = DB_REQ(person_disable, "$4::uuid"),
    [NRM_STMT_PERSON_ENABLE] = DB_REQ(person_enable, "$4::uuid"),
    [NRM_STMT_PERSON_RESET] = DB_REQ(person_reset, "$4::uuid, $5, $6::integer"),
    [NRM_STMT_KEY_CREATE] =
	DB_REQ(key_create, "$4, $5::uuid, $6, $7::text[], $8"),
    [NRM_STMT_KEY_LIST] = DB_REQ(key_list, "$4::uuid, $5::integer"),
    [NRM_STMT_KEY_REVOKE] = DB_REQ(key_revoke, "$4::uuid"),
    [NRM_STMT_ENROL_LOOKUP] = DB_API(enrol_lookup, "$1, $2, $3"),
    [NRM_STMT_ENROL] =
	DB_API(enrol, "$1, $2, $3, $4, $5::integer[], $6, $7, $8::bytea[]"),
    [NRM_STMT_LOGIN_BEGIN] = DB_API(login_begin, "$1, $2, $3"),
    [NRM_STMT_LOGIN_FINISH] = DB_API(login_finish,
	"$1, $2, $3, $4, $5, $6, $7, $8::integer, $9::integer, "
	"$10::integer, $11::integer, $12::integer, $13, $14::integer[], $15"),
    [NRM_STMT_SESSION_GET] = DB_API(session_get, "$1, $2, $3"),
    [NRM_STMT_SESSION_END] = DB_API(session_end, "$1, $2, $3"),
    [NRM_STMT_CASE_HANDOVER] = DB_REQ(case_handover, "$4::uuid, $5, $6::uuid"),
    [NRM_STMT_IDENT_QUEUE] =
	DB_REQ(ident_queue, "$4, $5::uuid, $6::integer, $7"),
    [NRM_STMT_SIGNAL_LIST] = DB_REQ(signal_list, "$4::uuid, $5::integer"),
    [NRM_STMT_CASE_COLLEAGUES] = DB_REQ(case_colleagues, "$4::uuid"),
    [NRM_STMT_CASE_SHARE_TARGETS] = DB_REQ(case_share_targets, "$4::uuid"),
    [NRM_STMT_CASE_CONTACT] =
	DB_REQ(case_contact, "$4::uuid, $5::integer, $6, $7"),
    [NRM_STMT_CASE_TRANSFER_ACCEPT] =
	DB_REQ(case_transfer_accept, "$4::uuid, $5::integer"),
    [NRM_STMT_CASE_TRANSFER_REFUSE] =
	DB_REQ(case_transfer_refuse, "$4::uuid, $5::integer, $6"),
    [NRM_STMT_CASE_FIND] = DB_REQ(case_find, "$4"),
    [NRM_STMT_STATISTICS] = DB_REQ(statistics, "$4, $5, $6"),
    [NRM_STMT_OVERVIEW] = DB_REQ(overview, "$4::integer"),
    [NRM_STMT_COVERAGE] = DB_API(coverage_uncovered, "$1::integer"),
    [NRM_STMT_PUB_PREPARE] = DB_REQ(publication_prepare, "$4, $5::jsonb"),
    [NRM_STMT_PUB_CREATE] =
	DB_REQ(publication_create, "$4, $5::jsonb, $6::jsonb, $7, $8"),
    [NRM_STMT_PUB_LIST] = DB_API(publication_list, "$1, $2, $3"),
    [NRM_STMT_PUB_GET] = DB_REQ(publication_get, "$4, $5::boolean"),
    [NRM_STMT_AUTH_REJECTIONS] =
	DB_API(auth_rejections, "$1::integer, $2::integer"),
    [NRM_STMT_DATA_UNREADABLE] = DB_REQ(data_unreadable, "$4, $5, $6"),
    [NRM_STMT_PLAINTEXT_LEFT] = DB_API(data_plaintext_left, ""),
    [NRM_STMT_RETENTION] = DB_API(
	retention_run, "$1::integer, $2::jsonb, $3::integer, $4::integer"),
    [NRM_STMT_PRIVACY_EXPORT] = DB_REQ(privacy_export, "$4::uuid, $5::bytea"),
    [NRM_STMT_PRIVACY_RECTIFY_PREPARE] =
	DB_REQ(privacy_rectify_prepare, "$4::uuid, $5"),
    [NRM_STMT_PRIVACY_RECTIFY] =
	DB_REQ(privacy_rectify, "$4::uuid, $5, $6, $7::bytea, $8::boolean, $9"),
    [NRM_STMT_PRIVACY_ERASE] = DB_REQ(privacy_erase, "$4::uuid, $5"),
    /* Identification panels (issue 19). */
    [NRM_STMT_PANEL_ASSIGN] = DB_REQ(panel_assign, "$4::uuid, $5::jsonb, $6"),
    [NRM_STMT_PANEL_GET] = DB_REQ(panel_get, "$4::uuid"),
    [NRM_STMT_PANEL_RECUSE] = DB_REQ(panel_recuse, "$4::uuid, $5::jsonb"),
    [NRM_STMT_PANEL_VOTE] = DB_REQ(panel_vote, "$4::uuid, $5::jsonb"),
    [NRM_STMT_PANEL_PENDING] = DB_API(panel_pending, "$1, $2, $3"),
    /* The care work of a case (issue 18, handlers/carework.c). */
    [NRM_STMT_NOTE_ADD] = DB_REQ(case_note_add, "$4::uuid, $5::jsonb"),
    [NRM_STMT_NOTE_LIST] = DB_REQ(case_note_list, "$4::uuid, $5, $6"),
    [NRM_STMT_SUPPORT_POST] = DB_REQ(support_post, "$4::uuid, $5::jsonb"),
    [NRM_STMT_SUPPORT_LIST] = DB_REQ(support_list, "$4::uuid"),
    [NRM_STMT_REFERRAL_LIST] = DB_REQ(referral_list, "$4"),
    [NRM_STMT_REFERRAL_ANSWER] = DB_REQ(referral_answer, "$4::uuid, $5, $6"),
    [NRM_STMT_CASE_RELATED] = DB_REQ(case_related, "$4::uuid"),
    /* The long-polls' fan-out: one element per waiter in $1..$4. */
    [NRM_STMT_INBOX_MANY] = DB_API(inbox_many,
	"$1::bytea[], $2::text[], $3::inet[], $4::text[], $5, $6, "
	"$7::jsonb, $8::integer, $9::boolean"),
    /* An investigation record's data key (issue 15, handlers/tracks.c). */
    [NRM_STMT_INVEST_SEAL_KEY] = DB_REQ(invest_seal_key, "$4::uuid"),
    [NRM_STMT_CASE_MERGE] = DB_REQ(case_merge, "$4::uuid, $5::integer, $6, $7"),
    /* Follow-ups from the reporter (issue 18, handlers/followup.c). */
    [NRM_STMT_SIGNAL_FOLLOWUP] =
	DB_REQ(signal_followup, "$4::uuid, $5, $6::bytea, $7::jsonb"),
    [NRM_STMT_FOLLOWUP_LIST] = DB_REQ(case_followup_list, "$4::uuid, $5, $6"),
};
