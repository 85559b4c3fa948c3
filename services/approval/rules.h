/* approval — the decisions kefu-approval makes itself (pure, no I/O):
   whether a stage is done, whether a request can still finish before the
   date promised to the owner, and how amounts and dates are written. The
   store supplies the facts and records the outcome (migration 012). */
#ifndef APPROVAL_RULES_H
#define APPROVAL_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "kf_error.h"

#define RULES_AMOUNT_MAX_FEN INT64_C(10000000000) /* 100,000,000.00 yuan */

typedef enum { RULES_PENDING, RULES_APPROVED, RULES_REJECTED } rules_outcome_t;

/* The outcome of a stage of total steps, approved and rejected of them
   decided, under rule "all", "any" or "quorum" (quorum approvals needed;
   more than total counts as all). A stage is rejected as soon as it can
   no longer reach its approvals. An unknown rule stays pending. */
rules_outcome_t rules_stage_outcome(const char *rule, int quorum, int total, int approved,
                                    int rejected);

/* The stage outcome as the store writes it: "approved" or "rejected"
   (NULL for pending). */
const char *rules_outcome_name(rules_outcome_t outcome);

/* True when a request cannot finish by promised_ms even if every step
   from now on is decided at its deadline: its current stage ends at
   stage_end_ms at the latest (0 or less: unknown, taken as now_ms; a step
   whose clock stopped has none), the later stages take later_s seconds.
   Sets *projected_ms to that latest finish. */
bool rules_at_risk(int64_t now_ms, int64_t promised_ms, int64_t stage_end_ms, int64_t later_s,
                   int64_t *projected_ms);

/* Reads an amount in yuan written as digits with at most two decimals
   ("80000", "80000.5", "80000.50") into fen, 1 fen to 100,000,000.00
   yuan. Anything else (a currency sign or code, a thousands separator, a
   sign, an exponent, spaces, three decimals) is bad_value. */
int rules_amount_fen(const char *text, int64_t *fen, kf_error_t *err);

/* Writes fen as yuan with two decimals ("80000.00") into buf. */
void rules_amount_text(int64_t fen, char *buf, size_t size);

/* Checks a calendar date written YYYY-MM-DD (years 2000-2999). */
int rules_date(const char *text, const char *field, kf_error_t *err);

/* Why a request is at risk, for its history and its approval.at_risk
   event, readable without a calculator and in no time zone (the event's
   projected_at is shown in the reader's): "the remaining stages may finish
   1d 18h 0m after the end of the promised day" (projected_ms and
   promised_ms since the epoch). */
void rules_risk_reason(int64_t projected_ms, int64_t promised_ms, char *buf, size_t size);

#endif
