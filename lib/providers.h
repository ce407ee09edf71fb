/*
 * providers.h - the provider tables, one per program in cgi-bin/.
 *
 * Each cgi-bin/<provider>.c defines its table and a three-line main();
 * built with -DESPHOOKS_NO_MAIN the same file links into the unit tests
 * and fuzz targets, which exercise the mapping without a database.
 */
#ifndef ESPHOOKS_PROVIDERS_H
#define ESPHOOKS_PROVIDERS_H

#include "event.h"

extern const struct provider provider_mailjet;
extern const struct provider provider_sendpulse;
extern const struct provider provider_aldeamo;

#endif
