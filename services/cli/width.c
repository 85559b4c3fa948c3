/* kefu clients — display width of UTF-8 text. */
#include "width.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define WIDTH_ELLIPSIS "..."

typedef struct {
    uint32_t first, last;
} s_range_t;

/* Wide and full-width ranges (after Unicode's EastAsianWidth W and F). */
static const s_range_t s_wide[] = {
    {0x1100, 0x115F},   {0x231A, 0x231B},   {0x2329, 0x232A},   {0x23E9, 0x23EC},
    {0x25FD, 0x25FE},   {0x2614, 0x2615},   {0x2648, 0x2653},   {0x26A1, 0x26A1},
    {0x26AA, 0x26AB},   {0x26BD, 0x26BE},   {0x26C4, 0x26C5},   {0x26D4, 0x26D4},
    {0x26EA, 0x26EA},   {0x26F2, 0x26F5},   {0x26FA, 0x26FD},   {0x2705, 0x2705},
    {0x270A, 0x270B},   {0x2728, 0x2728},   {0x274C, 0x274C},   {0x2753, 0x2757},
    {0x2795, 0x2797},   {0x27B0, 0x27B0},   {0x27BF, 0x27BF},   {0x2B1B, 0x2B1C},
    {0x2B50, 0x2B50},   {0x2B55, 0x2B55},   {0x2E80, 0x303E},   {0x3041, 0x33FF},
    {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},   {0xA960, 0xA97F},
    {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},   {0xFE10, 0xFE19},   {0xFE30, 0xFE6F},
    {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x16FE0, 0x16FE4}, {0x17000, 0x18CFF},
    {0x1B000, 0x1B2FF}, {0x1F004, 0x1F004}, {0x1F0CF, 0x1F0CF}, {0x1F18E, 0x1F18E},
    {0x1F191, 0x1F19A}, {0x1F200, 0x1F251}, {0x1F300, 0x1F64F}, {0x1F680, 0x1F6FF},
    {0x1F7E0, 0x1F7EB}, {0x1F90C, 0x1F9FF}, {0x1FA70, 0x1FAFF}, {0x20000, 0x3FFFD},
};

/* Zero-width ranges: combining marks, joiners, variation selectors. */
static const s_range_t s_zero[] = {
    {0x0300, 0x036F}, {0x0483, 0x0489}, {0x0591, 0x05BD}, {0x0610, 0x061A}, {0x064B, 0x065F},
    {0x200B, 0x200F}, {0x202A, 0x202E}, {0x2060, 0x2064}, {0x20D0, 0x20FF}, {0x302A, 0x302D},
    {0x3099, 0x309A}, {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F}, {0xFEFF, 0xFEFF}, {0xE0100, 0xE01EF},
};

/* True when cp lies in one of ranges. */
static bool s_in(const s_range_t *ranges, size_t count, uint32_t cp)
{
    for (size_t i = 0; i < count; i++)
        if (cp >= ranges[i].first && cp <= ranges[i].last)
            return true;
    return false;
}

/* Columns of one code point (control characters count as one: they are
   shown as spaces). */
static int s_cp_width(uint32_t cp)
{
    if (s_in(s_zero, sizeof s_zero / sizeof s_zero[0], cp))
        return 0;
    if (s_in(s_wide, sizeof s_wide / sizeof s_wide[0], cp))
        return 2;
    return 1;
}

/* Decodes the code point at s; returns its length in bytes (1 for a byte
   that does not start a well-formed sequence, so bad input still moves). */
static size_t s_decode(const unsigned char *s, uint32_t *cp)
{
    size_t len = s[0] < 0x80 ? 1 : s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC0 ? 2 : 0;
    if (len == 0) {
        *cp = s[0];
        return 1;
    }
    *cp = len == 1 ? s[0] : s[0] & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = s[0];
            return 1;
        }
        *cp = (*cp << 6) | (s[i] & 0x3F);
    }
    return len;
}

int width_of(const char *s)
{
    int cols = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t cp;
        p += s_decode(p, &cp);
        cols += s_cp_width(cp);
    }
    return cols;
}

/* Copies whole characters of s into out while they fit in cols columns
   and outsize bytes; returns the columns used and sets *rest to the first
   character not copied. */
static int s_copy(const char *s, int cols, char *out, size_t outsize, const char **rest)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t used = 0;
    int width = 0;
    while (*p) {
        uint32_t cp;
        size_t len = s_decode(p, &cp);
        int w = s_cp_width(cp);
        if (width + w > cols || used + len >= outsize)
            break;
        if (cp < 0x20 || cp == 0x7F)
            out[used] = ' ';
        else
            memcpy(out + used, p, len);
        used += cp < 0x20 || cp == 0x7F ? 1 : len;
        width += w;
        p += len;
    }
    out[used] = '\0';
    *rest = (const char *)p;
    return width;
}

int width_fit(const char *s, int cols, char *out, size_t outsize)
{
    if (outsize == 0)
        return 0;
    const char *rest;
    if (width_of(s) <= cols) {
        int width = s_copy(s, cols, out, outsize, &rest);
        if (*rest == '\0')
            return width;
    }
    int room = cols - (int)strlen(WIDTH_ELLIPSIS);
    if (room < 0 || outsize <= strlen(WIDTH_ELLIPSIS))
        return s_copy(s, cols, out, outsize, &rest);
    int width = s_copy(s, room, out, outsize - strlen(WIDTH_ELLIPSIS), &rest);
    strcat(out, WIDTH_ELLIPSIS);
    return width + (int)strlen(WIDTH_ELLIPSIS);
}
