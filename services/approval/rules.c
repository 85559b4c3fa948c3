/* approval — how amounts and dates must be written (see rules.h). */
#include "rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
