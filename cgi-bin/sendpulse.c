/*
 * sendpulse.c - SendPulse SMTP service webhooks.
 *
 * SendPulse POSTs a JSON array once a minute or every 1,000 events
 * (a single object is taken too).  Fields: event, timestamp (unix),
 * message_id, recipient, sender, subject, smtp_server_response_code
 * (a string in the documentation, a number in real traffic),
 * smtp_server_response_subcode, smtp_server_response.  The
 * "unsubscribed" sample has neither timestamp nor message_id.
 * Source: SendPulse "SMTP WebHooks", seed 001 of this project.
 */
#include <stddef.h>
#include <string.h>

#include <json-c/json.h>

#include "event.h"
#include "providers.h"
#include "server.h"

static const struct event_name sendpulse_events[] = {
	{ "delivered",		"delivered" },
	{ "undelivered",	"bounced" },
	{ "hard_bounces",	"bounced" },
	{ "soft_bounces",	"bounced" },
	{ "opened",		"opened" },
	{ "clicked",		"clicked" },
	{ "spam_by_user",	"complained" },
	{ "unsubscribed",	"unsubscribed" },
	{ "resubscribed",	"resubscribed" },
	{ NULL,			NULL }
};

/* The columns of table sendpulse (sql/004_sendpulse.sql), in order. */
static const struct column sendpulse_columns[] = {
	{ "occurred_at",	&conv_unixtime,	{ "timestamp" } },
	{ "recipient",		&conv_lower,	{ "recipient", "email" } },
	{ "message_id",		&conv_text,	{ "message_id" } },
	{ "sender",		&conv_text,	{ "sender" } },
	{ "subject",		&conv_text,	{ "subject" } },
	{ "smtp_code",		&conv_smtp,	{ "smtp_server_response_code" } },
	{ "smtp_subcode",	&conv_text,
	    { "smtp_server_response_subcode" } },
	{ "smtp_response",	&conv_text,	{ "smtp_server_response" } },
	{ "url",		&conv_text,	{ "url", "link" } },
};

/*
 * "undelivered" is permanent when the SMTP reply code is 5xx (RFC 5321
 * §4.2.1), temporary for any other code, unknown without one.
 */
static void
sendpulse_classify(struct json_object *ev, const char *provider_event,
    struct verdict *v)
{
	struct json_object *code = NULL;
	int n;

	v->event = event_lookup(sendpulse_events, provider_event);
	v->hard_bounce = -1;
	if (provider_event == NULL || strcmp(v->event, "bounced") != 0)
		return;
	if (strcmp(provider_event, "hard_bounces") == 0)
		v->hard_bounce = 1;
	else if (strcmp(provider_event, "soft_bounces") == 0)
		v->hard_bounce = 0;
	else if (json_object_object_get_ex(ev, "smtp_server_response_code",
	    &code) && (n = event_smtp_value(code)) >= 0)
		v->hard_bounce = n >= 500;
}

const struct provider provider_sendpulse = {
	"sendpulse",
	sendpulse_columns,
	sizeof sendpulse_columns / sizeof sendpulse_columns[0],
	sendpulse_classify,
	0,
};

#ifndef ESPHOOKS_NO_MAIN
int
main(int argc, char **argv)
{
	return server_main(argc, argv, &provider_sendpulse);
}
#endif
