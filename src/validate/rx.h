/*
 * rx.h - a byte DFA for the simple regular expressions of str_matches / str_contains.
 *
 * PCRE2 (JIT) spends 50-75 ns on a 25-byte e-mail address; most schema patterns (codes, postcodes,
 * phone numbers, e-mails) are plain regular expressions that a deterministic automaton over bytes
 * runs in about 1 ns per byte. rx_compile() accepts a subset of PCRE2's syntax and refuses
 * (returns NULL) everything else, so the caller keeps PCRE2 for those patterns.
 *
 * Contract: for every subject that is valid UTF-8 (only ASCII subjects when rx_ascii_only(rx)),
 * rx_match() returns what
 *   pcre2_match(code, s, n, 0, PCRE2_NO_UTF_CHECK, md, NULL) >= 0
 * returns when code = pcre2_compile(pattern, PCRE2_ZERO_TERMINATED,
 *                                   PCRE2_UTF | PCRE2_UCP | anchored, ...),
 * anchored being PCRE2_ANCHORED for RX_ANCHORED and 0 otherwise, with PCRE2's default newline
 * (LF; rx_compile refuses every pattern when the library was built with another one). The one
 * difference: where PCRE2 gives up on its backtracking match limit and reports an error, rx
 * still answers (correctly).
 *
 * Supported subset: literals (ASCII, and UTF-8 code points outside classes), escaped ASCII
 * punctuation, \t \n \r \f \e \a \xhh (hh < 0x80); `.` (any code point but \n); classes [...]
 * and [^...] with ASCII members, ranges and \d \w \s \D \W \S; \d \w \s \D \W \S outside
 * classes. Those six are Unicode-aware in PCRE2_UCP (and in Python's re: \w matches 山田, \d ١٢,
 * \s a no-break space); the DFA knows their ASCII members only, so a pattern using one is
 * rx_ascii_only: its answers hold for ASCII subjects, and the caller asks PCRE2 for the others;
 * groups (...) and (?:...); alternation, empty branches included; the quantifiers * + ? {m} {m,}
 * {m,n} (m, n <= 1000) and their lazy forms (lazy and
 * greedy give the same yes/no answer); the assertions ^ and \A (start of subject), $ and \Z (end
 * of subject or before a final \n) and \z (end of subject), wherever they stand.
 * Refused: backreferences, lookaround, \b \B \G \K \R \X \p \P \h \v \N \Q \c \o \x{..},
 * octal escapes, inline options and verbs ((?i), (*UTF), ...), named, atomic and conditional
 * groups, possessive quantifiers, quantified assertions, non-ASCII inside classes, POSIX classes
 * ([:alpha:]), a literal `{`, `}` or `]` that is not escaped, and automata beyond the caps
 * (RX_MAX_NFA nodes, RX_MAX_STATES DFA states).
 *
 * Speed: one table load per byte, or per two bytes when the DFA is small enough for a table
 * indexed by pairs of byte classes (RX_MAX_PAIRS entries): 0.7-1 ns per byte.
 *
 * A compiled struct rx is immutable: rx_match() may run on it from several threads at once.
 */
#ifndef ASTRO_VALIDATE_RX_H
#define ASTRO_VALIDATE_RX_H

#include <stdbool.h>
#include <stddef.h>

/* rx_compile flags. */
enum {
    RX_ANCHORED = 1, /* the match must start at offset 0 (PCRE2_ANCHORED: re.match) */
    RX_NO_PAIRS = 2  /* tests: match one byte at a time even where a two-byte table fits */
};

#define RX_MAX_NFA 8192    /* NFA nodes after {m,n} expansion */
#define RX_MAX_STATES 2048 /* DFA states */

struct rx;

/* Compiles pattern (NUL-terminated UTF-8, borrowed for the call only). Returns an owned struct
 * rx (free with rx_free), or NULL when the pattern is outside the supported subset, is not valid
 * syntax, exceeds a cap, or memory ran out: the caller then uses PCRE2. */
struct rx *rx_compile(const char *pattern, unsigned flags);

/* True when the pattern matches subject s[0..n) (valid UTF-8, borrowed; may hold NUL bytes).
 * Allocates nothing. */
bool rx_match(const struct rx *rx, const char *s, size_t n);

/* Why rx_compile_why returned NULL. */
enum {
    RX_OK = 0,
    RX_UNSUPPORTED = 1, /* outside the subset, or not valid syntax */
    RX_TOO_BIG = 2,     /* a cap (pattern length, nesting, {m,n}, NFA, DFA, build work) */
    RX_NOMEM = 3
};

/* rx_compile, and *why (when why is not NULL) says why it returned NULL, or RX_OK. */
struct rx *rx_compile_why(const char *pattern, unsigned flags, int *why);

/* True when rx's answers hold for ASCII subjects only (the pattern uses \d \w \s \D \W \S):
 * for a subject holding a byte >= 0x80 the caller must ask PCRE2. */
bool rx_ascii_only(const struct rx *rx);

/* True when s[0..n) holds no byte >= 0x80. */
bool rx_ascii(const char *s, size_t n);

/* Frees rx; rx_free(NULL) is a no-op. */
void rx_free(struct rx *rx);

/* The number of DFA states of rx (dead and accepting states included), for tests and benches. */
size_t rx_nstates(const struct rx *rx);

#endif
