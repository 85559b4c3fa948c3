/* approval — stage rules, the at-risk check, amounts and dates (see rules.h). */
#include "rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

rules_outcome_t rules_stage_outcome(const char *rule, int quorum, int total, int approved,
                                    int rejected)
{
    int needed;
    if (strcmp(rule, "all") == 0)
        needed = total;
    else if (strcmp(rule, "any") == 0)
        needed = 1;
    else if (strcmp(rule, "quorum") == 0)
        needed = quorum < 1 ? 1 : quorum > total ? total : quorum;
    else
        return RULES_PENDING;
    if (total <= 0)
        return RULES_PENDING;
    if (approved >= needed)
        return RULES_APPROVED;
    /* The steps not rejected are all that could still approve. */
    if (total - rejected < needed)
        return RULES_REJECTED;
    return RULES_PENDING;
}

const char *rules_outcome_name(rules_outcome_t outcome)
{
    return outcome == RULES_APPROVED ? "approved" : outcome == RULES_REJECTED ? "rejected" : NULL;
}

bool rules_at_risk(int64_t now_ms, int64_t promised_ms, int64_t stage_end_ms, int64_t later_s,
                   int64_t *projected_ms)
{
    int64_t start = stage_end_ms > now_ms ? stage_end_ms : now_ms;
    *projected_ms = start + (later_s > 0 ? later_s * 1000 : 0);
    return *projected_ms > promised_ms;
}

int rules_amount_fen(const char *text, int64_t *fen, kf_error_t *err)
{
    const char *hint = "write yuan as digits with at most two decimals, e.g. 80000 or 80000.50 "
                       "(no currency sign or code, no thousands separators)";
    int64_t whole = 0, cents = 0;
    int digits = 0, significant = 0, decimals = 0;
    const char *p = text;
    /* Leading zeros count for nothing ("0080000" is 80000 yuan, which the
       catalog allows); more than 9 significant digits is out of range. */
    for (; *p >= '0' && *p <= '9'; p++, digits++)
        if ((significant > 0 || *p != '0') && ++significant <= 12)
            whole = whole * 10 + (*p - '0');
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++, decimals++)
            if (decimals < 2)
                cents = cents * 10 + (*p - '0');
    if (digits == 0 || *p != '\0' || (text[digits] == '.' && decimals == 0))
        return kf_error_set(err, KF_E_BAD_VALUE, "amount", "amount \"%.40s\": %s", text, hint);
    if (decimals > 2)
        return kf_error_set(
            err, KF_E_BAD_VALUE, "amount",
            "amount \"%.40s\" has more than two decimals (fen are the smallest unit)", text);
    if (decimals == 1)
        cents *= 10;
    if (significant > 9 || whole * 100 + cents > RULES_AMOUNT_MAX_FEN || whole * 100 + cents < 1)
        return kf_error_set(err, KF_E_BAD_VALUE, "amount",
                            "amount must be 0.01 to 100000000.00 yuan, not %.40s", text);
    *fen = whole * 100 + cents;
    return 0;
}

void rules_amount_text(int64_t fen, char *buf, size_t size)
{
    snprintf(buf, size, "%lld.%02lld", (long long)(fen / 100), (long long)(fen % 100));
}

void rules_risk_reason(int64_t projected_ms, int64_t promised_ms, char *buf, size_t size)
{
    int64_t late = projected_ms > promised_ms ? (projected_ms - promised_ms) / 60000 : 0;
    snprintf(buf, size,
             "the remaining stages may finish %lldd %lldh %lldm after the end of the promised "
             "day",
             (long long)(late / 1440), (long long)(late / 60 % 24), (long long)(late % 60));
}

int rules_date(const char *text, const char *field, kf_error_t *err)
{
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    /* Every position checked: sscanf's %d would also take a space or a
       sign ("2026-12- 3", "2026-+1-03"), which PostgreSQL's date input
       then reads its own way or refuses. */
    bool shape = strlen(text) == 10 && text[4] == '-' && text[7] == '-';
    for (int i = 0; shape && i < 10; i++)
        shape = i == 4 || i == 7 || (text[i] >= '0' && text[i] <= '9');
    if (!shape)
        return kf_error_set(err, KF_E_BAD_VALUE, field, "%s must be a date YYYY-MM-DD, not %.40s",
                            field, text);
    int y = atoi(text), m = atoi(text + 5), d = atoi(text + 8);
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 2000 || y > 2999 || m < 1 || m > 12 || d < 1 || d > days[m - 1] ||
        (m == 2 && d == 29 && !leap))
        return kf_error_set(err, KF_E_BAD_VALUE, field, "%s %.40s is not a date of 2000-2999",
                            field, text);
    return 0;
}
