/*
 * aldeamo.c - Aldeamo email webhooks, "Email marketing" and "SMTP".
 *
 * Aldeamo POSTs one object per event and drops events that are not
 * taken within 100 ms, so nothing here may be slow.  Its documented
 * samples (manual §8, seed 002 of this project) have quirks real traffic
 * has too, each handled by a column below:
 *   - the id is "relid", "releid" or "reid", a number or a string;
 *   - the recipient is "to" or "email"; "contactid" or "contactId";
 *   - timestamps are GMT-5 without a zone ("2020-10-01 20:01:20",
 *     sometimes with a trailing "\n") or JavaScript date strings with
 *     their own offset;
 *   - "complaint" has no "type"; "status" is Spanish ("Entregado",
 *     "Rebote duro"); "response" is a string or an array of objects;
 *   - trailing commas before '}' (the scanner takes those).
 */
#define _GNU_SOURCE		/* strcasestr */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "event.h"
#include "providers.h"
#include "server.h"

/* Aldeamo writes local time in Colombia, GMT-5, without saying so. */
#define ALDEAMO_UTC_OFFSET_MIN (-5 * 60)

static const struct event_name aldeamo_events[] = {
	{ "sent",		"delivered" },
	{ "delivered",		"delivered" },
	{ "bounce",		"bounced" },
	{ "open",		"opened" },
	{ "click",		"clicked" },
	{ "complaint",		"complained" },
	{ "unsubscribed",	"unsubscribed" },
	{ NULL,			NULL }
};

/* The columns of table aldeamo (sql/005_aldeamo.sql), in order. */
static const struct column aldeamo_columns[] = {
	{ "occurred_at",	&conv_localtime, { "timestamp" } },
	{ "recipient",		&conv_lower,	{ "to", "email" } },
	{ "family",		&conv_text,	{ "type", "Type" } },
	{ "message_id",		&conv_text,	{ "msgid" } },
	{ "campaign_id",	&conv_text,	{ "campid" } },
	{ "relid",		&conv_text,	{ "relid", "releid", "reid" } },
	{ "contact_id",		&conv_text,	{ "contactid", "contactId" } },
	{ "campaign_name",	&conv_text,	{ "campaignName" } },
	{ "subject",		&conv_text,	{ "subject" } },
	{ "sender",		&conv_text,	{ "sender" } },
	{ "origin",		&conv_text,	{ "origin" } },
	{ "status",		&conv_text,	{ "status" } },
	{ "response",		&conv_text,	{ "response" } },
	{ "smtp_code",		&conv_smtp,	{ "response" } },
	{ "ip",			&conv_inet,	{ "ip" } },
	{ "url",		&conv_text,	{ "destination" } },
	{ "browser",		&conv_text,	{ "browser" } },
	{ "device_type",	&conv_text,	{ "device_type" } },
	{ "city",		&conv_text,	{ "cityName" } },
	{ "region",		&conv_text,	{ "regionName" } },
	{ "country",		&conv_text,	{ "countryName" } },
	{ "latitude",		&conv_number,	{ "latitude" } },
	{ "longitude",		&conv_number,	{ "longitude" } },
	{ "subscription_type",	&conv_text,	{ "subscription_type" } },
	{ "reason",		&conv_text,	{ "reason" } },
	{ "domain",		&conv_text,	{ "domain" } },
	{ "categories",		&conv_json,	{ "categories" } },
	{ "custom_headers",	&conv_json,	{ "custom_headers" } },
};

/*
 * The SMTP code of "response": a string ("550 5.5.0 ...") or, in some
 * accounts, an array of objects; the first code found wins.
 */
static int
aldeamo_smtp_code(struct json_object *ev)
{
	struct json_object *resp, *el;
	size_t i, n;
	int code = -1;

	if (!json_object_object_get_ex(ev, "response", &resp))
		return -1;
	if (!json_object_is_type(resp, json_type_array))
		return event_smtp_value(resp);
	n = json_object_array_length(resp);
	for (i = 0; i < n && code < 0; i++) {
		el = json_object_array_get_idx(resp, i);
		if (!json_object_is_type(el, json_type_object))
			continue;
		json_object_object_foreach(el, key, val) {
			(void)key;
			if ((code = event_smtp_value(val)) >= 0)
				break;
		}
	}
	return code;
}

static void
aldeamo_classify(struct json_object *ev, const char *provider_event,
    struct verdict *v)
{
	const char *sub, *status;
	int code;

	v->event = event_lookup(aldeamo_events, provider_event);
	v->hard_bounce = -1;
	/*
	 * "unsubscribed" covers three changes, told apart by
	 * subscription_type: "domain subscription cancelled", "... reactivated"
	 * and "domain category update".  Matched on word stems, so a
	 * "canceled" spelling still counts; any other text stays an
	 * unsubscribe, the safe reading for a suppression list.
	 */
	if (strcmp(v->event, "unsubscribed") == 0 &&
	    (sub = event_string(ev, "subscription_type")) != NULL) {
		if (strcasestr(sub, "reactivat") != NULL)
			v->event = "resubscribed";
		else if (strcasestr(sub, "categor") != NULL)
			v->event = "subscription_changed";
	}
	if (strcmp(v->event, "bounced") == 0) {
		status = event_string(ev, "status");
		code = aldeamo_smtp_code(ev);
		v->hard_bounce = (status && strcasecmp(status, "Rebote duro") == 0)
		    || code >= 500;
	}
}

const struct provider provider_aldeamo = {
	"aldeamo",
	aldeamo_columns,
	sizeof aldeamo_columns / sizeof aldeamo_columns[0],
	aldeamo_classify,
	ALDEAMO_UTC_OFFSET_MIN,
};

#ifndef ESPHOOKS_NO_MAIN
int
main(int argc, char **argv)
{
	return server_main(argc, argv, &provider_aldeamo);
}
#endif
