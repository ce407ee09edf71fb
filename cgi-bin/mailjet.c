/*
 * mailjet.c - Mailjet event callbacks ("Event API": open, click, bounce,
 * spam, blocked, unsub, typofix, sent).
 *
 * Mailjet POSTs one JSON object per event, or an array when the account
 * groups events.  Every event has "event" and "time" (unix seconds);
 * "MessageID" exceeds 2^53 and "mj_contact_id" 2^31, so both are read as
 * exact integers.  Any answer but 200 makes Mailjet retry (up to 10
 * times, every 10 minutes), so duplicates are normal and are skipped by
 * the table's dedup key.  Source: Mailjet's event documentation, seed
 * 000 of this project.
 */
#include <stddef.h>
#include <string.h>

#include "event.h"
#include "providers.h"
#include "server.h"

static const struct event_name mailjet_events[] = {
	{ "sent",	"delivered" },
	{ "bounce",	"bounced" },
	{ "blocked",	"blocked" },
	{ "open",	"opened" },
	{ "click",	"clicked" },
	{ "spam",	"complained" },
	{ "unsub",	"unsubscribed" },
	{ "typofix",	"typofix" },
	{ NULL,		NULL }
};

/* The columns of table mailjet (sql/002_mailjet.sql), in that order. */
static const struct column mailjet_columns[] = {
	{ "occurred_at",	&conv_unixtime,	{ "time" } },
	/* typofix events may carry only the address before correction. */
	{ "recipient",		&conv_lower,	{ "email", "original_address" } },
	{ "message_id",		&conv_int64,	{ "MessageID" } },
	{ "message_guid",	&conv_text,	{ "Message_GUID" } },
	{ "mj_campaign_id",	&conv_int64,	{ "mj_campaign_id" } },
	{ "mj_contact_id",	&conv_int64,	{ "mj_contact_id" } },
	{ "mj_list_id",		&conv_int64,	{ "mj_list_id" } },
	{ "customcampaign",	&conv_text,	{ "customcampaign" } },
	{ "custom_id",		&conv_text,	{ "CustomID" } },
	{ "payload",		&conv_text,	{ "Payload" } },
	{ "smtp_reply",		&conv_text,	{ "smtp_reply" } },
	{ "ip",			&conv_inet,	{ "ip" } },
	{ "geo",		&conv_text,	{ "geo" } },
	{ "agent",		&conv_text,	{ "agent" } },
	{ "url",		&conv_text,	{ "url" } },
	{ "blocked",		&conv_bool,	{ "blocked" } },
	{ "error_related_to",	&conv_text,	{ "error_related_to" } },
	{ "error",		&conv_text,	{ "error" } },
	{ "comment",		&conv_text,	{ "comment" } },
	{ "source",		&conv_text,	{ "source" } },
	{ "original_address",	&conv_text,	{ "original_address" } },
	{ "new_address",	&conv_text,	{ "new_address" } },
};

/* A bounce says itself whether it is permanent ("hard_bounce"). */
static void
mailjet_classify(struct json_object *ev, const char *provider_event,
    struct verdict *v)
{
	v->event = event_lookup(mailjet_events, provider_event);
	v->hard_bounce = strcmp(v->event, "bounced") == 0 ?
	    event_bool(ev, "hard_bounce") : -1;
}

const struct provider provider_mailjet = {
	"mailjet",
	mailjet_columns,
	sizeof mailjet_columns / sizeof mailjet_columns[0],
	mailjet_classify,
	0,
};

#ifndef ESPHOOKS_NO_MAIN
int
main(int argc, char **argv)
{
	return server_main(argc, argv, &provider_mailjet);
}
#endif
