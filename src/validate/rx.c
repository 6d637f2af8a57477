/*
 * rx.c - the DFA behind rx.h: pattern -> syntax tree -> Thompson NFA over bytes -> dense DFA.
 *
 * Everything works on bytes of UTF-8. A code point class ("one character not in [a-z]") becomes
 * a small byte automaton: one ASCII byte, or a lead byte followed by its continuation bytes. The
 * input is valid UTF-8, so the lead byte alone tells the length and the automaton need not reject
 * malformed sequences. Every atom starts on a lead (or ASCII) byte and consumes whole code points,
 * so an unanchored search restarted at every byte only ever starts at code point boundaries, as
 * PCRE2 does in UTF mode.
 *
 * Assertions (PCRE2 defaults, pcre2pattern(3) "Circumflex and dollar", no PCRE2_MULTILINE):
 * ^ and \A hold at offset 0 only; \z at the end of the subject; $ and \Z at the end or before a
 * final \n. They are NFA epsilon edges that the closure crosses only where they hold: ^ while
 * building the initial DFA state; \z and $ when the subject ends (a per-state "accept at end"
 * flag); and $ before a final \n by carrying, through the \n transition, the NFA states that are
 * only good if that \n was the last byte (the "end-required" half of a DFA state).
 *
 * A DFA state is (initial?, M, R): M the closure of the live NFA states (consuming nodes, pending
 * end assertions, the match node), R the end-required NFA states. State 0 is dead, state 1
 * accepts (whatever follows: neither mode anchors at the end, so any match found is final).
 * Transitions are stored pre-multiplied (target * nclass) so that a step is one add and one load;
 * that chain of dependent loads bounds the speed (about 2 ns per byte), so small automata also
 * get a table indexed by pairs of byte classes, which halves the chain. States 0 and 1 absorb,
 * so checking for them every second byte loses nothing.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "validate/rx.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define RX_MAX_PATTERN 1000    /* bytes; keeps the recursive parser and emitter shallow */
#define RX_MAX_AST 4096        /* syntax tree nodes */
#define RX_MAX_REP 1000        /* m and n of {m,n} */
#define RX_MAX_DEPTH 100       /* nested groups */
#define RX_WORK_BUDGET 2000000 /* closure steps while building the DFA (~ a few ms) */

#define RX_MAX_PAIRS 65536 /* entries of the two-byte table */

struct rx {
    uint32_t start;     /* start state (0 is dead, 1 accepts) */
    uint32_t nclass;    /* byte classes */
    uint32_t nstates;   /* DFA states, dead and accepting included */
    uint8_t cls[256];   /* byte -> class */
    uint16_t clsh[256]; /* byte -> class * nclass (first byte of a pair) */
    uint32_t *trans;    /* owned: nstates * nclass targets, pre-multiplied by nclass */
    uint16_t *trans2;   /* owned: nstates * nclass^2 targets after two bytes, pre-multiplied by
                           nclass^2 (below RX_MAX_PAIRS: 16 bits); NULL when above */
    uint8_t *acc_end;   /* owned: per state, 1 = accepts when the subject ends here */
    bool ascii_only;    /* the pattern uses \d \w \s or a negation: exact for ASCII subjects */
};

/* ---- syntax tree ---------------------------------------------------------------------------- */

enum ak { A_EMPTY, A_SET, A_LIT, A_CAT, A_ALT, A_REP, A_BOL, A_EOL, A_EOS };

/* A set of code points: some ASCII ones, and possibly every non-ASCII one (enough for the ASCII
 * classes of PCRE2 without PCRE2_UCP, their negations and `.`). */
struct cset {
    uint8_t ascii[16];
    bool nonascii;
};

struct anode {
    uint8_t kind;
    uint8_t len;      /* A_LIT: bytes of one UTF-8 code point */
    uint8_t bytes[4]; /* A_LIT */
    struct cset set;  /* A_SET */
    int a, b;         /* children: A_CAT and A_ALT a then b; A_REP a */
    int min, max;     /* A_REP; max -1 = unbounded */
};

struct parser {
    const unsigned char *p;
    struct anode *n;
    int nn;
    int depth;
    bool bad; /* unsupported or invalid: rx_compile returns NULL */
    int why;  /* RX_TOO_BIG when bad because of a cap */
    bool ascii_only; /* a class escape was used (its ASCII meaning; see rx_ascii_only) */
};

static void cs_add(struct cset *s, unsigned c)
{
    s->ascii[c >> 3] |= (uint8_t)(1u << (c & 7));
}

static void cs_negate(struct cset *s)
{
    for (int k = 0; k < 16; k++) {
        s->ascii[k] = (uint8_t)~s->ascii[k];
    }
    s->nonascii = !s->nonascii;
}

static void cs_union(struct cset *s, const struct cset *o)
{
    for (int k = 0; k < 16; k++) {
        s->ascii[k] |= o->ascii[k];
    }
    s->nonascii = s->nonascii || o->nonascii;
}

static int mk(struct parser *ps, enum ak kind, int a, int b)
{
    if (ps->bad || ps->nn >= RX_MAX_AST) {
        ps->why = ps->bad ? ps->why : RX_TOO_BIG;
        ps->bad = true;
        return -1;
    }
    struct anode *n = &ps->n[ps->nn];
    memset(n, 0, sizeof(*n));
    n->kind = (uint8_t)kind;
    n->a = a;
    n->b = b;
    return ps->nn++;
}

static int mk_set(struct parser *ps, const struct cset *s)
{
    int k = mk(ps, A_SET, -1, -1);
    if (k >= 0) {
        ps->n[k].set = *s;
    }
    return k;
}

static bool is_digit(unsigned c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(unsigned c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int hexval(unsigned c)
{
    if (is_digit(c)) {
        return (int)(c - '0');
    }
    if (c >= 'a' && c <= 'f') {
        return (int)(c - 'a' + 10);
    }
    if (c >= 'A' && c <= 'F') {
        return (int)(c - 'A' + 10);
    }
    return -1;
}

/* The ASCII class escapes without PCRE2_UCP (pcre2pattern(3) "Generic character types": \s is
 * HT, LF, VT, FF, CR and space; code points above 127 are never \d, \s or \w). */
static bool class_escape(unsigned c, struct cset *s)
{
    memset(s, 0, sizeof(*s));
    switch (c | 0x20) {
    case 'd':
        for (unsigned k = '0'; k <= '9'; k++) {
            cs_add(s, k);
        }
        break;
    case 'w':
        for (unsigned k = 0; k < 128; k++) {
            if (is_alnum(k) || k == '_') {
                cs_add(s, k);
            }
        }
        break;
    case 's':
        for (unsigned k = '\t'; k <= '\r'; k++) {
            cs_add(s, k);
        }
        cs_add(s, ' ');
        break;
    default: return false;
    }
    if (c >= 'A' && c <= 'Z') {
        cs_negate(s);
    }
    return true;
}

enum esc { ESC_BAD, ESC_CHAR, ESC_SET, ESC_ASSERT };

/* Parses the escape after a backslash (ps->p at the character after it). ESC_CHAR sets *ch (an
 * ASCII value), ESC_SET *set, ESC_ASSERT *kind. */
static enum esc parse_escape(struct parser *ps, bool in_class, unsigned *ch, struct cset *set,
                             enum ak *kind)
{
    unsigned c = *ps->p;
    if (c == 0 || c >= 0x80) {
        return ESC_BAD;
    }
    ps->p++;
    if (!is_alnum(c)) {
        *ch = c; /* an escaped ASCII non-alphanumeric stands for itself */
        return ESC_CHAR;
    }
    if (class_escape(c, set)) {
        ps->ascii_only = true; /* PCRE2_UCP gives non-ASCII code points other answers */
        return ESC_SET;
    }
    switch (c) {
    case 't': *ch = '\t'; return ESC_CHAR;
    case 'n': *ch = '\n'; return ESC_CHAR;
    case 'r': *ch = '\r'; return ESC_CHAR;
    case 'f': *ch = '\f'; return ESC_CHAR;
    case 'e': *ch = 0x1b; return ESC_CHAR;
    case 'a': *ch = 0x07; return ESC_CHAR;
    case 'x': {
        /* Exactly two hex digits below 0x80; \x{...} and shorter forms are left to PCRE2. */
        int h1 = hexval(ps->p[0]);
        int h2 = h1 >= 0 ? hexval(ps->p[1]) : -1;
        if (h2 < 0 || h1 >= 8) {
            return ESC_BAD;
        }
        ps->p += 2;
        *ch = (unsigned)(h1 * 16 + h2);
        return ESC_CHAR;
    }
    default: break;
    }
    if (!in_class) {
        switch (c) {
        case 'A': *kind = A_BOL; return ESC_ASSERT;
        case 'Z': *kind = A_EOL; return ESC_ASSERT;
        case 'z': *kind = A_EOS; return ESC_ASSERT;
        default: break;
        }
    }
    return ESC_BAD;
}

/* One member of a class: a character (*ch) or a class escape (*set). Returns 1, 2 or 0 (bad). */
static int class_item(struct parser *ps, unsigned *ch, struct cset *set)
{
    unsigned c = *ps->p;
    if (c == 0 || c >= 0x80 || c == '[') {
        return 0; /* non-ASCII members, POSIX classes: PCRE2's */
    }
    if (c != '\\') {
        ps->p++;
        *ch = c;
        return 1;
    }
    ps->p++;
    enum ak kind;
    switch (parse_escape(ps, true, ch, set, &kind)) {
    case ESC_CHAR: return 1;
    case ESC_SET: return 2;
    default: return 0;
    }
}

/* True when p (just after a '[') starts what PCRE2 reads as POSIX class syntax, "[:name:]",
 * "[.x.]" or "[=x=]" (pcre2pattern(3) "Posix character classes"): the opening character, then
 * its twin before a ']' ends the class or a '[' of the same kind starts. */
static bool posix_like(const unsigned char *p)
{
    unsigned t = *p;
    if (t != ':' && t != '.' && t != '=') {
        return false;
    }
    for (p++; *p != 0; p++) {
        if (*p == '\\' && (p[1] == ']' || p[1] == '\\')) {
            p++;
        } else if ((*p == '[' && p[1] == t) || *p == ']') {
            return false;
        } else if (*p == t && p[1] == ']') {
            return true;
        }
    }
    return false;
}

static int parse_class(struct parser *ps)
{
    struct cset s;
    memset(&s, 0, sizeof(s));
    bool neg = false;
    ps->p++; /* [ */
    if (posix_like(ps->p)) {
        ps->bad = true; /* "[:alpha:]" as the whole class: an error in PCRE2 */
        return -1;
    }
    if (*ps->p == '^') {
        neg = true;
        ps->p++;
    }
    bool first = true;
    for (;;) {
        unsigned c = *ps->p;
        if (c == ']' && !first) {
            ps->p++;
            break;
        }
        if (c == '-' && !first && ps->p[1] != ']') {
            ps->bad = true; /* a '-' after a range or a class escape: ambiguous, PCRE2's */
            return -1;
        }
        first = false;
        unsigned lo = 0;
        struct cset es;
        int k;
        if (c == ']') {
            ps->p++; /* a ']' right after '[' or '[^' is a member */
            lo = ']';
            k = 1;
        } else {
            k = class_item(ps, &lo, &es);
        }
        if (k == 0) {
            ps->bad = true;
            return -1;
        }
        if (k == 2) {
            if (*ps->p == '-' && ps->p[1] != ']') {
                ps->bad = true;
                return -1;
            }
            cs_union(&s, &es);
            continue;
        }
        if (*ps->p == '-' && ps->p[1] != ']' && ps->p[1] != 0) {
            ps->p++;
            unsigned hi = 0;
            if (class_item(ps, &hi, &es) != 1 || hi < lo) {
                ps->bad = true;
                return -1;
            }
            for (unsigned x = lo; x <= hi; x++) {
                cs_add(&s, x);
            }
            if (*ps->p == '-' && ps->p[1] != ']') {
                ps->bad = true;
                return -1;
            }
            continue;
        }
        cs_add(&s, lo);
    }
    if (neg) {
        cs_negate(&s);
    }
    return mk_set(ps, &s);
}

/* A literal code point of 2-4 bytes (RFC 3629 well-formed; PCRE2 has checked the pattern, this
 * guards direct callers). */
static int parse_utf8(struct parser *ps)
{
    const unsigned char *p = ps->p;
    unsigned c = p[0];
    int len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
    if (c < 0xc2 || c > 0xf4) {
        ps->bad = true;
        return -1;
    }
    for (int k = 1; k < len; k++) {
        if ((p[k] & 0xc0) != 0x80) {
            ps->bad = true;
            return -1;
        }
    }
    if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0) || (c == 0xf0 && p[1] < 0x90) ||
        (c == 0xf4 && p[1] >= 0x90)) {
        ps->bad = true;
        return -1;
    }
    int k = mk(ps, A_LIT, -1, -1);
    if (k >= 0) {
        ps->n[k].len = (uint8_t)len;
        memcpy(ps->n[k].bytes, p, (size_t)len);
        ps->p += len;
    }
    return k;
}

static int parse_alt(struct parser *ps);

/* One atom; *assertion tells a quantifier must not follow. */
static int parse_atom(struct parser *ps, bool *assertion)
{
    unsigned c = *ps->p;
    struct cset s;
    memset(&s, 0, sizeof(s));
    *assertion = false;
    switch (c) {
    case '(': {
        ps->p++;
        if (*ps->p == '?') {
            if (ps->p[1] != ':') {
                ps->bad = true; /* lookaround, inline options, named, atomic... */
                return -1;
            }
            ps->p += 2;
        } else if (*ps->p == '*') {
            ps->bad = true; /* verbs: (*UTF), (*CR), (*SKIP)... */
            return -1;
        }
        if (++ps->depth > RX_MAX_DEPTH) {
            ps->why = RX_TOO_BIG;
            ps->bad = true;
            return -1;
        }
        int k = parse_alt(ps);
        if (ps->bad || *ps->p != ')') {
            ps->bad = true;
            return -1;
        }
        ps->p++;
        ps->depth--;
        return k;
    }
    case '[': return parse_class(ps);
    case '.':
        ps->p++;
        cs_negate(&s); /* any code point but \n (PCRE2 default, no DOTALL) */
        s.ascii['\n' >> 3] &= (uint8_t) ~(1u << ('\n' & 7));
        return mk_set(ps, &s);
    case '^':
        ps->p++;
        *assertion = true;
        return mk(ps, A_BOL, -1, -1);
    case '$':
        ps->p++;
        *assertion = true;
        return mk(ps, A_EOL, -1, -1);
    case '\\': {
        ps->p++;
        unsigned ch = 0;
        enum ak kind = A_EMPTY;
        switch (parse_escape(ps, false, &ch, &s, &kind)) {
        case ESC_CHAR: cs_add(&s, ch); return mk_set(ps, &s);
        case ESC_SET: return mk_set(ps, &s);
        case ESC_ASSERT: *assertion = true; return mk(ps, kind, -1, -1);
        default: ps->bad = true; return -1;
        }
    }
    case '*':
    case '+':
    case '?':
    case '{':
    case '}':
    case ']': ps->bad = true; return -1;
    default: break;
    }
    if (c >= 0x80) {
        return parse_utf8(ps);
    }
    ps->p++;
    cs_add(&s, c);
    return mk_set(ps, &s);
}

/* {m}, {m,} or {m,n} at ps->p; false when it is not exactly one of those (PCRE2 would read a
 * literal '{' or fail). */
static bool parse_braces(struct parser *ps, int *min, int *max)
{
    const unsigned char *p = ps->p + 1;
    int v[2] = {0, -1};
    for (int part = 0; part < 2; part++) {
        if (!is_digit(*p)) {
            if (part == 1 && *p == '}') {
                break; /* {m,} */
            }
            return false;
        }
        int x = 0;
        while (is_digit(*p)) {
            x = x * 10 + (*p++ - '0');
            if (x > RX_MAX_REP) {
                ps->why = RX_TOO_BIG;
                return false;
            }
        }
        v[part] = x;
        if (part == 0) {
            if (*p == '}') {
                v[1] = x; /* {m} */
                break;
            }
            if (*p != ',') {
                return false;
            }
            p++;
        }
    }
    if (*p != '}' || (v[1] >= 0 && v[1] < v[0])) {
        return false;
    }
    ps->p = p + 1;
    *min = v[0];
    *max = v[1];
    return true;
}

/* True when t[k] holds a ^ or \A. */
static bool has_bol(const struct anode *t, int k)
{
    switch ((enum ak)t[k].kind) {
    case A_BOL: return true;
    case A_CAT:
    case A_ALT: return has_bol(t, t[k].a) || has_bol(t, t[k].b);
    case A_REP: return has_bol(t, t[k].a);
    default: return false;
    }
}

static int parse_piece(struct parser *ps)
{
    bool assertion = false;
    int at = parse_atom(ps, &assertion);
    if (ps->bad) {
        return -1;
    }
    unsigned c = *ps->p;
    int min = 0;
    int max = -1;
    switch (c) {
    case '*': ps->p++; break;
    case '+':
        ps->p++;
        min = 1;
        break;
    case '?':
        ps->p++;
        max = 1;
        break;
    case '{':
        if (!parse_braces(ps, &min, &max)) {
            ps->bad = true;
            return -1;
        }
        break;
    default: return at;
    }
    if (assertion) {
        ps->bad = true;
        return -1;
    }
    if (*ps->p == '?') {
        ps->p++; /* lazy: the same yes/no answer */
    }
    c = *ps->p;
    if (c == '*' || c == '+' || c == '?' || c == '{') {
        ps->bad = true; /* possessive, or a quantifier on a quantifier */
        return -1;
    }
    if (max == 0 && has_bol(ps->n, at)) {
        /* PCRE2 10.42 treats "(x|^a){0}b" as anchored and never finds the "b" of "ab": leave
         * such patterns (useless anyway) to PCRE2 so the answers stay the same. */
        ps->bad = true;
        return -1;
    }
    int k = mk(ps, A_REP, at, -1);
    if (k >= 0) {
        ps->n[k].min = min;
        ps->n[k].max = max;
    }
    return k;
}

static int parse_cat(struct parser *ps)
{
    int acc = -1;
    while (!ps->bad && *ps->p != 0 && *ps->p != '|' && *ps->p != ')') {
        int k = parse_piece(ps);
        acc = acc < 0 ? k : mk(ps, A_CAT, acc, k);
    }
    return acc < 0 ? mk(ps, A_EMPTY, -1, -1) : acc;
}

static int parse_alt(struct parser *ps)
{
    int left = parse_cat(ps);
    while (!ps->bad && *ps->p == '|') {
        ps->p++;
        int right = parse_cat(ps);
        left = mk(ps, A_ALT, left, right);
    }
    return left;
}

/* ---- Thompson NFA over bytes ---------------------------------------------------------------- */

enum nk { N_BYTES, N_SPLIT, N_BOL, N_EOL, N_EOS, N_MATCH };

struct nnode {
    uint8_t kind;
    int out, out1; /* out1: N_SPLIT only */
    int set;       /* N_BYTES: index into nfa.sets */
};

struct nfa {
    struct nnode *n;
    int nn;
    uint8_t (*sets)[32]; /* 256-bit byte sets */
    int nsets, capsets;
    int single[256]; /* set index of {b}, -1 until needed */
    int utf_set[4];  /* continuation 80-BF; leads C0-DF, E0-EF, F0-F7 */
    bool bad;
    int why; /* RX_TOO_BIG or RX_NOMEM */
};

static int nfa_set(struct nfa *f)
{
    if (f->nsets == f->capsets) {
        int cap = f->capsets ? f->capsets * 2 : 64;
        void *p = realloc(f->sets, (size_t)cap * sizeof(*f->sets));
        if (p == NULL) {
            f->why = RX_NOMEM;
            f->bad = true;
            return -1;
        }
        f->sets = p;
        f->capsets = cap;
    }
    memset(f->sets[f->nsets], 0, 32);
    return f->nsets++;
}

static int nfa_range_set(struct nfa *f, unsigned lo, unsigned hi)
{
    int s = nfa_set(f);
    if (s >= 0) {
        for (unsigned b = lo; b <= hi; b++) {
            f->sets[s][b >> 3] |= (uint8_t)(1u << (b & 7));
        }
    }
    return s;
}

static int nfa_node(struct nfa *f, enum nk kind, int out, int out1, int set)
{
    if (!f->bad && f->nn >= RX_MAX_NFA) {
        f->why = RX_TOO_BIG;
    }
    if (f->bad || f->nn >= RX_MAX_NFA || set < -1 || out < 0 || (kind == N_SPLIT && out1 < 0)) {
        f->bad = true;
        return -1;
    }
    f->n[f->nn] = (struct nnode){.kind = (uint8_t)kind, .out = out, .out1 = out1, .set = set};
    return f->nn++;
}

static int emit(struct nfa *f, const struct anode *t, int k, int next);

static int emit_set(struct nfa *f, const struct cset *s, int next)
{
    int any = -1;
    bool has_ascii = false;
    for (int k = 0; k < 16; k++) {
        has_ascii = has_ascii || s->ascii[k] != 0;
    }
    if (has_ascii || !s->nonascii) {
        int set = nfa_set(f);
        if (set >= 0) {
            memcpy(f->sets[set], s->ascii, 16);
        }
        any = nfa_node(f, N_BYTES, next, -1, set);
    }
    if (s->nonascii) {
        /* lead byte -> 1, 2 or 3 continuation bytes (valid input: the lead tells the length) */
        int c1 = nfa_node(f, N_BYTES, next, -1, f->utf_set[0]);
        int c2 = nfa_node(f, N_BYTES, c1, -1, f->utf_set[0]);
        int c3 = nfa_node(f, N_BYTES, c2, -1, f->utf_set[0]);
        int l2 = nfa_node(f, N_BYTES, c1, -1, f->utf_set[1]);
        int l3 = nfa_node(f, N_BYTES, c2, -1, f->utf_set[2]);
        int l4 = nfa_node(f, N_BYTES, c3, -1, f->utf_set[3]);
        int multi = nfa_node(f, N_SPLIT, l2, nfa_node(f, N_SPLIT, l3, l4, -1), -1);
        any = any < 0 ? multi : nfa_node(f, N_SPLIT, any, multi, -1);
    }
    return any;
}

static int emit_byte(struct nfa *f, unsigned b, int next)
{
    if (f->single[b] < 0) {
        f->single[b] = nfa_range_set(f, b, b);
    }
    return nfa_node(f, N_BYTES, next, -1, f->single[b]);
}

/* Emits the NFA of t[k] so that it continues at node next; returns its entry node. */
static int emit(struct nfa *f, const struct anode *t, int k, int next)
{
    if (f->bad) {
        return -1;
    }
    const struct anode *a = &t[k];
    switch ((enum ak)a->kind) {
    case A_EMPTY: return next;
    case A_SET: return emit_set(f, &a->set, next);
    case A_LIT:
        for (int j = a->len - 1; j >= 0; j--) {
            next = emit_byte(f, a->bytes[j], next);
        }
        return next;
    case A_CAT: return emit(f, t, a->a, emit(f, t, a->b, next));
    case A_ALT: {
        int x = emit(f, t, a->a, next);
        return nfa_node(f, N_SPLIT, x, emit(f, t, a->b, next), -1);
    }
    case A_BOL: return nfa_node(f, N_BOL, next, -1, -1);
    case A_EOL: return nfa_node(f, N_EOL, next, -1, -1);
    case A_EOS: return nfa_node(f, N_EOS, next, -1, -1);
    case A_REP: {
        int cur = next;
        if (a->max < 0) {
            /* loop: L = split(body -> L, next) */
            int l = nfa_node(f, N_SPLIT, next, next, -1);
            if (l < 0) {
                return -1;
            }
            int body = emit(f, t, a->a, l);
            if (body < 0) {
                return -1;
            }
            f->n[l].out = body;
            cur = l;
        } else {
            /* (x(x(x)?)?)? for the max - min optional copies */
            for (int j = 0; j < a->max - a->min && !f->bad; j++) {
                cur = nfa_node(f, N_SPLIT, emit(f, t, a->a, cur), next, -1);
            }
        }
        for (int j = 0; j < a->min && !f->bad; j++) {
            cur = emit(f, t, a->a, cur);
        }
        return f->bad ? -1 : cur;
    }
    }
    f->bad = true;
    return -1;
}

/* ---- subset construction -------------------------------------------------------------------- */

enum { CL_BOL = 1, CL_EOL = 2, CL_EOS = 4 };

struct builder {
    const struct nfa *f;
    int match; /* the N_MATCH node */
    int start; /* the NFA's entry */
    bool anchored;
    uint32_t *mark; /* per NFA node: generation of the last closure that visited it */
    uint32_t gen;
    int *stack;
    long work;
    /* states: keys [init, nM, M..., R...] concatenated; state s's key at keys[koff[s]] of
     * length klen[s] (states 0 and 1 have none) */
    int *keys;
    size_t nkeys, capkeys;
    size_t *koff;
    size_t *klen;
    uint32_t nstates, capstates;
    uint32_t *slots; /* hash table: state id, 0 = free (states 0 and 1 are never hashed) */
    uint32_t nslots;
    uint32_t *trans; /* nstates * nclass plain state ids during the build */
    uint32_t nclass;
    uint8_t rep[256]; /* class -> a byte of it */
    uint8_t cls[256];
    bool bad;
    int why; /* RX_TOO_BIG or RX_NOMEM */
};

static bool set_has(const struct nfa *f, int set, unsigned b)
{
    return (f->sets[set][b >> 3] >> (b & 7)) & 1;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a;
    int y = *(const int *)b;
    return (x > y) - (x < y);
}

/* The epsilon closure of seeds (crossing the assertions in flags): writes the sorted member
 * nodes (N_BYTES, N_MATCH, and the assertions not crossed but for ^) to out; returns their
 * count. out holds f->nn ints. */
static int closure(struct builder *b, const int *seeds, int nseeds, unsigned flags, int *out)
{
    const struct nnode *n = b->f->n;
    int nout = 0;
    int sp = 0;
    if (++b->gen == 0) {
        memset(b->mark, 0, (size_t)b->f->nn * sizeof(*b->mark));
        b->gen = 1;
    }
    for (int k = 0; k < nseeds; k++) {
        if (b->mark[seeds[k]] != b->gen) {
            b->mark[seeds[k]] = b->gen;
            b->stack[sp++] = seeds[k];
        }
    }
    while (sp > 0) {
        int x = b->stack[--sp];
        int next[2] = {-1, -1};
        b->work++;
        switch ((enum nk)n[x].kind) {
        case N_BYTES:
        case N_MATCH: out[nout++] = x; break;
        case N_SPLIT:
            next[0] = n[x].out;
            next[1] = n[x].out1;
            break;
        case N_BOL:
            if (flags & CL_BOL) {
                next[0] = n[x].out;
            }
            break;
        case N_EOL:
            if (flags & CL_EOL) {
                next[0] = n[x].out;
            } else {
                out[nout++] = x;
            }
            break;
        case N_EOS:
            if (flags & CL_EOS) {
                next[0] = n[x].out;
            } else {
                out[nout++] = x;
            }
            break;
        }
        /* push out1 first so that out is explored first (order does not matter for the set) */
        for (int j = 1; j >= 0; j--) {
            if (next[j] >= 0 && b->mark[next[j]] != b->gen) {
                b->mark[next[j]] = b->gen;
                b->stack[sp++] = next[j];
            }
        }
    }
    qsort(out, (size_t)nout, sizeof(*out), cmp_int);
    return nout;
}

static bool has_node(const int *set, int n, int x)
{
    for (int k = 0; k < n; k++) {
        if (set[k] == x) {
            return true;
        }
    }
    return false;
}

static uint32_t hash_key(const int *key, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t k = 0; k < len; k++) {
        h = (h ^ (uint32_t)key[k]) * 16777619u;
    }
    return h;
}

static bool grow_states(struct builder *b)
{
    uint32_t cap = b->capstates ? b->capstates * 2 : 64;
    if (cap > RX_MAX_STATES) {
        cap = RX_MAX_STATES;
    }
    void *p1 = realloc(b->koff, cap * sizeof(*b->koff));
    if (p1 == NULL) {
        return false;
    }
    b->koff = p1;
    void *p2 = realloc(b->klen, cap * sizeof(*b->klen));
    if (p2 == NULL) {
        return false;
    }
    b->klen = p2;
    void *p3 = realloc(b->trans, (size_t)cap * b->nclass * sizeof(*b->trans));
    if (p3 == NULL) {
        return false;
    }
    b->trans = p3;
    b->capstates = cap;
    return true;
}

/* The state of key (init, M, R); 0 when dead, 1 when M holds the match node. Sets b->bad when a
 * cap is reached or memory runs out. */
static uint32_t intern(struct builder *b, int init, const int *m, int nm, const int *r, int nr)
{
    if (has_node(m, nm, b->match)) {
        return 1;
    }
    if (nm == 0 && nr == 0) {
        return 0;
    }
    size_t len = 2 + (size_t)nm + (size_t)nr;
    if (b->nkeys + len > b->capkeys) {
        size_t cap = b->capkeys ? b->capkeys * 2 : 1024;
        while (cap < b->nkeys + len) {
            cap *= 2;
        }
        void *p = realloc(b->keys, cap * sizeof(*b->keys));
        if (p == NULL) {
            b->why = RX_NOMEM;
            b->bad = true;
            return 0;
        }
        b->keys = p;
        b->capkeys = cap;
    }
    int *key = b->keys + b->nkeys;
    key[0] = init;
    key[1] = nm;
    memcpy(key + 2, m, (size_t)nm * sizeof(*m));
    if (nr > 0) {
        memcpy(key + 2 + nm, r, (size_t)nr * sizeof(*r));
    }
    uint32_t i = hash_key(key, len) & (b->nslots - 1);
    while (b->slots[i] != 0) {
        uint32_t s = b->slots[i];
        if (b->klen[s] == len && memcmp(b->keys + b->koff[s], key, len * sizeof(*key)) == 0) {
            return s;
        }
        i = (i + 1) & (b->nslots - 1);
    }
    if (b->nstates >= RX_MAX_STATES || (b->nstates == b->capstates && !grow_states(b))) {
        b->why = b->nstates >= RX_MAX_STATES ? RX_TOO_BIG : RX_NOMEM;
        b->bad = true;
        return 0;
    }
    uint32_t s = b->nstates++;
    b->koff[s] = b->nkeys;
    b->klen[s] = len;
    b->nkeys += len;
    b->slots[i] = s;
    return s;
}

/* Splits the 256 bytes into classes that no tested byte set (nor the test for \n) tells apart.
 * Only the sets some node tests count: the UTF-8 ones exist whether or not a class needs them.
 * False when memory ran out. */
static bool byte_classes(struct builder *b)
{
    const struct nfa *f = b->f;
    int map[512];
    uint8_t next[256];
    uint8_t *used = calloc((size_t)f->nsets + 1, 1);
    if (used == NULL) {
        return false;
    }
    for (int k = 0; k < f->nn; k++) {
        if (f->n[k].kind == N_BYTES) {
            used[f->n[k].set] = 1;
        }
    }
    memset(b->cls, 0, sizeof(b->cls));
    uint32_t nclass = 1;
    for (int s = -1; s < f->nsets; s++) {
        if (s >= 0 && !used[s]) {
            continue;
        }
        for (int k = 0; k < 512; k++) {
            map[k] = -1;
        }
        uint32_t n = 0;
        for (unsigned x = 0; x < 256; x++) {
            int in = s < 0 ? x == '\n' : set_has(f, s, x);
            int key = b->cls[x] * 2 + in;
            if (map[key] < 0) {
                map[key] = (int)n++;
            }
            next[x] = (uint8_t)map[key];
        }
        memcpy(b->cls, next, sizeof(next));
        nclass = n;
    }
    free(used);
    b->nclass = nclass;
    for (int x = 255; x >= 0; x--) {
        b->rep[b->cls[x]] = (uint8_t)x;
    }
    return true;
}

/* Fills state s's transitions and returns its accept-at-end flag. */
static uint8_t expand(struct builder *b, uint32_t s, int *buf)
{
    const struct nnode *n = b->f->n;
    int nn = b->f->nn;
    /* buf holds 5 areas of nn + 1 ints: the state's M, seeds, a closure, R', a second closure */
    size_t area = (size_t)nn + 1;
    int *m = buf;
    int *seeds = buf + area;
    int *cl = buf + 2 * area;
    int *r2 = buf + 3 * area;
    int *c2 = buf + 4 * area;
    const int *key = b->keys + b->koff[s];
    int init = key[0];
    int nm = key[1];
    memcpy(m, key + 2, (size_t)nm * sizeof(*m));
    int nr = (int)b->klen[s] - 2 - nm;
    unsigned bol = init ? CL_BOL : 0;

    /* At the end of the subject: every end assertion holds. */
    int ns = 0;
    for (int k = 0; k < nm; k++) {
        if (n[m[k]].kind == N_EOL || n[m[k]].kind == N_EOS) {
            seeds[ns++] = n[m[k]].out;
        }
    }
    uint8_t acc_end = has_node(cl, closure(b, seeds, ns, CL_EOL | CL_EOS | bol, cl), b->match);
    if (!acc_end && nr > 0) {
        memcpy(seeds, key + 2 + nm, (size_t)nr * sizeof(*seeds));
        acc_end = has_node(cl, closure(b, seeds, nr, CL_EOL | CL_EOS, cl), b->match);
    }

    for (uint32_t c = 0; c < b->nclass && !b->bad; c++) {
        unsigned byte = b->rep[c];
        ns = 0;
        for (int k = 0; k < nm; k++) {
            if (n[m[k]].kind == N_BYTES && set_has(b->f, n[m[k]].set, byte)) {
                seeds[ns++] = n[m[k]].out;
            }
        }
        if (!b->anchored) {
            seeds[ns++] = b->start; /* a match may start at the next offset */
        }
        int nm2 = closure(b, seeds, ns, 0, cl);
        int nr2 = 0;
        if (byte == '\n') {
            /* $ before this \n: what follows $ must then reach the end right after the \n */
            int ne = 0;
            for (int k = 0; k < nm; k++) {
                if (n[m[k]].kind == N_EOL) {
                    seeds[ne++] = n[m[k]].out;
                }
            }
            if (ne > 0) {
                int nc = closure(b, seeds, ne, CL_EOL | bol, c2);
                for (int k = 0; k < nc; k++) {
                    if (n[c2[k]].kind == N_MATCH) {
                        r2[nr2++] = c2[k];
                    } else if (n[c2[k]].kind == N_BYTES && set_has(b->f, n[c2[k]].set, '\n')) {
                        r2[nr2++] = n[c2[k]].out;
                    }
                }
                qsort(r2, (size_t)nr2, sizeof(*r2), cmp_int);
                int u = 0;
                for (int k = 0; k < nr2; k++) {
                    if (u == 0 || r2[u - 1] != r2[k]) {
                        r2[u++] = r2[k];
                    }
                }
                nr2 = u;
            }
        }
        uint32_t t = intern(b, 0, cl, nm2, r2, nr2);
        /* intern may have moved b->keys: re-read nothing from key after this point */
        b->trans[(size_t)s * b->nclass + c] = t;
        if (b->work > RX_WORK_BUDGET) {
            b->why = RX_TOO_BIG;
            b->bad = true;
        }
    }
    return acc_end;
}

struct rx *rx_compile(const char *pattern, unsigned flags)
{
    return rx_compile_why(pattern, flags, NULL);
}

struct rx *rx_compile_why(const char *pattern, unsigned flags, int *why)
{
    struct rx *rx = NULL;
    int reason = RX_UNSUPPORTED;
    struct anode *ast = NULL;
    struct nfa f;
    struct builder b;
    int *buf = NULL;
    uint8_t *acc_end = NULL;
    memset(&f, 0, sizeof(f));
    memset(&b, 0, sizeof(b));

    /* $ and . depend on the newline convention; this module implements LF only. */
    uint32_t nl = 0;
    if (pattern == NULL || pcre2_config(PCRE2_CONFIG_NEWLINE, &nl) < 0 || nl != PCRE2_NEWLINE_LF ||
        strlen(pattern) > RX_MAX_PATTERN) {
        reason = pattern != NULL && nl == PCRE2_NEWLINE_LF ? RX_TOO_BIG : RX_UNSUPPORTED;
        goto out;
    }

    struct parser ps = {.p = (const unsigned char *)pattern};
    ast = malloc(RX_MAX_AST * sizeof(*ast));
    if (ast == NULL) {
        reason = RX_NOMEM;
        goto out;
    }
    ps.n = ast;
    int root = parse_alt(&ps);
    if (ps.bad || *ps.p != 0 || root < 0) {
        reason = ps.why ? ps.why : RX_UNSUPPORTED;
        goto out;
    }

    reason = RX_NOMEM;
    f.n = malloc(RX_MAX_NFA * sizeof(*f.n));
    if (f.n == NULL) {
        goto out;
    }
    for (int k = 0; k < 256; k++) {
        f.single[k] = -1;
    }
    f.utf_set[0] = nfa_range_set(&f, 0x80, 0xbf);
    f.utf_set[1] = nfa_range_set(&f, 0xc0, 0xdf);
    f.utf_set[2] = nfa_range_set(&f, 0xe0, 0xef);
    f.utf_set[3] = nfa_range_set(&f, 0xf0, 0xf7);
    int match = nfa_node(&f, N_MATCH, 0, -1, -1);
    int start = emit(&f, ast, root, match);
    if (f.bad || start < 0) {
        reason = f.why ? f.why : RX_NOMEM;
        goto out;
    }

    b.f = &f;
    b.match = match;
    b.start = start;
    b.anchored = (flags & RX_ANCHORED) != 0;
    b.mark = calloc((size_t)f.nn, sizeof(*b.mark));
    b.stack = malloc((size_t)f.nn * sizeof(*b.stack));
    buf = malloc(5 * ((size_t)f.nn + 1) * sizeof(*buf));
    b.nslots = 2 * RX_MAX_STATES;
    b.slots = calloc(b.nslots, sizeof(*b.slots));
    if (b.mark == NULL || b.stack == NULL || buf == NULL || b.slots == NULL) {
        goto out;
    }
    if (!byte_classes(&b)) {
        goto out;
    }
    b.nstates = 2; /* dead, accept */
    if (!grow_states(&b)) {
        goto out;
    }
    for (uint32_t c = 0; c < b.nclass; c++) {
        b.trans[c] = 0;
        b.trans[b.nclass + c] = 1;
    }
    int n0 = closure(&b, &start, 1, CL_BOL, buf);
    uint32_t s0 = intern(&b, 1, buf, n0, NULL, 0);
    acc_end = malloc(RX_MAX_STATES);
    if (b.bad || acc_end == NULL) {
        reason = b.why ? b.why : RX_NOMEM;
        goto out;
    }
    acc_end[0] = 0;
    acc_end[1] = 1;
    for (uint32_t s = 2; s < b.nstates && !b.bad; s++) {
        acc_end[s] = expand(&b, s, buf);
    }
    if (b.bad) {
        reason = b.why ? b.why : RX_NOMEM;
        goto out;
    }

    rx = calloc(1, sizeof(*rx));
    if (rx == NULL) {
        goto out;
    }
    rx->nclass = b.nclass;
    rx->nstates = b.nstates;
    rx->ascii_only = ps.ascii_only;
    rx->start = s0;
    memcpy(rx->cls, b.cls, sizeof(rx->cls));
    for (int x = 0; x < 256; x++) {
        rx->clsh[x] = (uint16_t)(b.cls[x] * b.nclass);
    }
    size_t nc = b.nclass;
    size_t nc2 = nc * nc;
    if ((size_t)b.nstates * nc2 <= RX_MAX_PAIRS && !(flags & RX_NO_PAIRS)) {
        rx->trans2 = malloc((size_t)b.nstates * nc2 * sizeof(*rx->trans2));
        for (size_t s = 0; rx->trans2 != NULL && s < b.nstates; s++) {
            for (size_t c1 = 0; c1 < nc; c1++) {
                uint32_t mid = b.trans[s * nc + c1];
                for (size_t c2 = 0; c2 < nc; c2++) {
                    rx->trans2[s * nc2 + c1 * nc + c2] = (uint16_t)(b.trans[mid * nc + c2] * nc2);
                }
            }
        }
        /* without it (no memory) rx_match takes one byte at a time */
    }
    for (size_t k = 0; k < (size_t)b.nstates * b.nclass; k++) {
        b.trans[k] *= b.nclass;
    }
    rx->trans = b.trans;
    b.trans = NULL;
    /* give back the unused rows of the last growth */
    void *shrunk = realloc(rx->trans, (size_t)b.nstates * b.nclass * sizeof(*rx->trans));
    if (shrunk != NULL) {
        rx->trans = shrunk;
    }
    reason = RX_OK;
    rx->acc_end = acc_end;
    acc_end = NULL;

out:
    free(ast);
    free(f.n);
    free(f.sets);
    free(b.mark);
    free(b.stack);
    free(b.keys);
    free(b.koff);
    free(b.klen);
    free(b.slots);
    free(b.trans);
    free(buf);
    free(acc_end);
    if (why != NULL) {
        *why = reason;
    }
    return rx;
}

bool rx_ascii_only(const struct rx *rx)
{
    return rx->ascii_only;
}

bool rx_ascii(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (w & 0x8080808080808080ull) {
            return false;
        }
    }
    for (; i < n; i++) {
        if (p[i] & 0x80) {
            return false;
        }
    }
    return true;
}

bool rx_match(const struct rx *rx, const char *s, size_t n)
{
    const uint8_t *cls = rx->cls;
    const unsigned char *p = (const unsigned char *)s;
    uint32_t nc = rx->nclass;
    size_t i = 0;
    uint32_t state = rx->start;
    /* states 0 (dead) and 1 (accept) absorb: both end the scan */
    if (state <= 1) {
        return state == 1;
    }
    if (rx->trans2 != NULL) {
        const uint16_t *t2 = rx->trans2;
        const uint16_t *clsh = rx->clsh;
        uint32_t nc2 = nc * nc;
        uint32_t st = state * nc2;
        for (; i + 2 <= n; i += 2) {
            st = t2[st + clsh[p[i]] + cls[p[i + 1]]];
            if (st <= nc2) {
                return st == nc2;
            }
        }
        state = st / nc2;
    }
    const uint32_t *t = rx->trans;
    uint32_t st = state * nc;
    for (; i < n; i++) {
        st = t[st + cls[p[i]]];
        if (st <= nc) {
            return st == nc;
        }
    }
    return rx->acc_end[st / nc] != 0;
}

void rx_free(struct rx *rx)
{
    if (rx == NULL) {
        return;
    }
    free(rx->trans);
    free(rx->trans2);
    free(rx->acc_end);
    free(rx);
}

size_t rx_nstates(const struct rx *rx)
{
    return rx->nstates;
}
