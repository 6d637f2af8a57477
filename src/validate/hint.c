/*
 * hint.c - the hint rules (hint.h): two tables, one for values that did not parse as their
 * column's dtype, one for file names in the source folder. The first row that matches gives the
 * hint. A new rule is a new row (and, when no matcher fits, a new matcher).
 */
#include "validate/hint.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Which columns a value rule applies to. */
enum hint_on {
    HINT_INT = 1,   /* int*, uint* */
    HINT_REAL = 2,  /* float*, decimal */
    HINT_OTHER = 4, /* bool, date, datetime: every dtype but str */
};

struct value_rule {
    unsigned on;    /* enum hint_on bits */
    char sep;       /* the thousands separator (0: the null-word rule) */
    char dec;       /* the decimal mark that goes with it */
    bool need_frac; /* the value must have a fractional part (what tells '.' as thousands) */
    const char *text;
};

/* One table of every value rule, in the order they are tried. */
static const struct value_rule value_rules[] = {
    /* N/A in an int column: a spelling of "no value" that the spec does not declare. */
    {HINT_INT | HINT_REAL | HINT_OTHER, 0, 0, false, "add %s to null_values"},
    /* 3,779 or 1,234,567.5: English thousands separators. */
    {HINT_INT | HINT_REAL, ',', '.', false, "set thousands: ','"},
    /* 1.234,5: the decimal comma of most of Europe, with '.' between thousands. */
    {HINT_REAL, '.', ',', true, "set thousands: '.' and decimal: ','"},
    /* 1 234: a space between thousands. */
    {HINT_INT | HINT_REAL, ' ', '.', false, "set thousands: ' '"},
};

const struct hint_null_word hint_null_words[] = {
    {"NA", true},   {"N/A", true},     {"n/a", true},   {"NULL", true},     {"null", true},
    {"None", true}, {"-", true},       {"--", true},    {"Unknown", true},  {"unknown", true},
    {"#N/A", true}, {"missing", true}, {"?", true},     {".", false},       {"nil", false},
    {"NaN", false}, {"(null)", false}, {"n.a.", false}, {"(blank)", false},
};
const size_t hint_n_null_words = sizeof(hint_null_words) / sizeof(hint_null_words[0]);

static unsigned dtype_class(enum dtype id)
{
    switch (id) {
    case DT_STR: return 0;
    case DT_INT8:
    case DT_INT16:
    case DT_INT32:
    case DT_INT64:
    case DT_UINT8:
    case DT_UINT16:
    case DT_UINT32:
    case DT_UINT64: return HINT_INT;
    case DT_FLOAT32:
    case DT_FLOAT64:
    case DT_DECIMAL: return HINT_REAL;
    case DT_BOOL:
    case DT_DATE:
    case DT_TIMESTAMP:
    case DT_TIMESTAMP_TZ:
    case DT_TIMEDELTA: return HINT_OTHER;
    }
    return 0;
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t')) {
        (*n)--;
    }
}

static bool is_null_word(const char *s, size_t n)
{
    for (size_t k = 0; k < hint_n_null_words; k++) {
        const char *w = hint_null_words[k].word;
        if (strlen(w) == n && strncasecmp(s, w, n) == 0) {
            return true;
        }
    }
    return false;
}

static bool digit(char c)
{
    return c >= '0' && c <= '9';
}

/* [+-]d{1,3}(SEP ddd)+ then, when frac is allowed, (DEC d+)?: a number grouped by thousands. */
static bool grouped(const char *s, size_t n, char sep, char dec, bool frac, bool need_frac)
{
    size_t i = 0;
    if (i < n && (s[i] == '+' || s[i] == '-')) {
        i++;
    }
    size_t lead = 0;
    while (i < n && digit(s[i]) && lead < 4) {
        i++;
        lead++;
    }
    if (lead < 1 || lead > 3) {
        return false;
    }
    size_t groups = 0;
    while (i + 4 <= n && s[i] == sep && digit(s[i + 1]) && digit(s[i + 2]) && digit(s[i + 3]) &&
           (i + 4 == n || !digit(s[i + 4]))) {
        i += 4;
        groups++;
    }
    if (groups == 0) {
        return false;
    }
    bool has_frac = false;
    if (frac && i + 1 < n && s[i] == dec && digit(s[i + 1])) {
        i++;
        while (i < n && digit(s[i])) {
            i++;
        }
        has_frac = true;
    }
    return i == n && (has_frac || !need_frac);
}

const char *hint_for_value(enum dtype id, const char *value, size_t vlen, char *buf, size_t n)
{
    if (n > 0) {
        buf[0] = '\0';
    }
    unsigned cls = dtype_class(id);
    const char *t = value;
    size_t tn = vlen;
    if (value == NULL || n == 0 || cls == 0) {
        return NULL;
    }
    trim(&t, &tn);
    for (size_t r = 0; r < sizeof(value_rules) / sizeof(value_rules[0]); r++) {
        const struct value_rule *vr = &value_rules[r];
        if ((vr->on & cls) == 0) {
            continue;
        }
        if (vr->sep == 0) {
            if (!is_null_word(t, tn)) {
                continue;
            }
            /* null_values match the whole field text exactly: name it as it is. */
            char q[64];
            if (vlen > sizeof(q) - 3) {
                continue;
            }
            snprintf(q, sizeof(q), "'%.*s'", (int)vlen, value);
            const char *at = strstr(vr->text, "%s");
            snprintf(buf, n, "%.*s%s%s", (int)(at - vr->text), vr->text, q, at + 2);
            return buf;
        }
        if (grouped(t, tn, vr->sep, vr->dec, cls == HINT_REAL, vr->need_frac)) {
            snprintf(buf, n, "%s", vr->text);
            return buf;
        }
    }
    return NULL;
}

/* Endings of names that download and upload tools give a file while they write it. */
static const struct {
    const char *suffix;
    const char *text;
} name_rules[] = {
    {".part", "an upload is still running?"},     {".partial", "an upload is still running?"},
    {".filepart", "an upload is still running?"}, {".crdownload", "an upload is still running?"},
    {".tmp", "an upload is still running?"},      {"~", "an upload is still running?"},
};

const char *hint_for_file_name(const char *name)
{
    size_t n = strlen(name);
    for (size_t r = 0; r < sizeof(name_rules) / sizeof(name_rules[0]); r++) {
        size_t k = strlen(name_rules[r].suffix);
        if (n > k && strcasecmp(name + n - k, name_rules[r].suffix) == 0) {
            return name_rules[r].text;
        }
    }
    return NULL;
}
