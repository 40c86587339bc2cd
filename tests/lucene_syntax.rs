//! Lucene 9 `RegExp` syntax, case by case, as Elasticsearch 8.x runs `regex` and `regex~` (flags
//! `RegExp.ALL`, plus `ASCII_CASE_INSENSITIVE` for `regex~`). Each row is a pattern, a value,
//! whether Lucene matches the whole value (or the error it raises), and the rule of Lucene's
//! `RegExp.java` that decides it; `eqlite::lucene` must agree on every row. The rows were run
//! through Lucene 9.5.0 and 9.9.1 themselves (the Lucene inside the Anserini jars of pyserini
//! 0.22.1 and 1.6.0): both agree with every row except the refusals marked in `ERRORS`.

use eqlite::internals::lucene::compile;

/// `regex` (case-sensitive): (pattern, value, whole-value match, the Lucene rule).
const CASE_SENSITIVE: &[(&str, &str, bool, &str)] = &[
    // Predefined classes (LUCENE-9336, `expandPredefined`): ASCII, outside brackets.
    (r"\d", "7", true, r"\d is [0-9]"),
    (r"\d", "d", false, r"\d is a class, not the letter d"),
    (r"\d", "٣", false, r"\d is ASCII only (an Arabic-Indic three)"),
    (r"\D", "x", true, r"\D is [^0-9]"),
    (r"\D", "é", true, r"\D is every character but 0-9"),
    (r"\D", "5", false, r"\D excludes digits"),
    (r"\s", " ", true, r"\s is [ \t\n\r]"),
    (r"\s", "\t", true, r"\s is [ \t\n\r]"),
    (r"\s", "\n", true, r"\s is [ \t\n\r]"),
    (r"\s", "\r", true, r"\s is [ \t\n\r]"),
    (r"\s", "\u{b}", false, r"\s has no vertical tab (unlike Java's \s)"),
    (r"\s", "\u{c}", false, r"\s has no form feed (unlike Java's \s)"),
    (r"\s", "\u{a0}", false, r"\s is ASCII only (no-break space)"),
    (r"\s", "s", false, r"\s is a class, not the letter s"),
    (r"\S", "s", true, r"\S is [^ \t\n\r]"),
    (r"\S", "\u{b}", true, r"\S takes what \s lacks"),
    (r"\S", " ", false, r"\S excludes the space"),
    (r"\w", "a", true, r"\w is [a-zA-Z_0-9]"),
    (r"\w", "Z", true, r"\w is [a-zA-Z_0-9]"),
    (r"\w", "0", true, r"\w is [a-zA-Z_0-9]"),
    (r"\w", "_", true, r"\w is [a-zA-Z_0-9]"),
    (r"\w", "-", false, r"\w has no hyphen"),
    (r"\w", "é", false, r"\w is ASCII only"),
    (r"\w", "w", true, r"\w takes the letter w as a word character"),
    (r"\W", "-", true, r"\W is [^a-zA-Z_0-9]"),
    (r"\W", "é", true, r"\W takes non-ASCII letters"),
    (r"\W", "_", false, r"\W excludes _"),
    (r"\w+\.pid", "haldrund.pid", true, r"classes repeat like any item"),
    (r"\d{3}", "123", true, r"classes take repetition bounds"),
    // Classes inside brackets (`parseCharClass` tries `matchPredefinedCharacterClass` first).
    (r"[\w.]+", "haldrund.pid", true, r"[\w.] is word characters and ."),
    (r"[\w.]+", "a-b", false, r"[\w.] has no hyphen"),
    (r"[\d]", "5", true, r"[\d] is a digit"),
    (r"[\d]", "d", false, r"[\d] is not the letter d"),
    (r"[\s]", "\t", true, r"[\s] is whitespace"),
    (r"[\W\d]", "5", true, r"classes unite in brackets"),
    (r"[\W\d]", "-", true, r"classes unite in brackets"),
    (r"[\W\d]", "a", false, r"classes unite in brackets"),
    (r"[^\d]", "a", true, r"[^\d] negates the class"),
    (r"[^\d]", "5", false, r"[^\d] negates the class"),
    (r"[^\D]", "5", true, r"[^\D] is a digit"),
    (r"[^\D]", "a", false, r"[^\D] is a digit"),
    (r"[^\s]", "x", true, r"[^\s] is non-whitespace"),
    (r"[^\s]", "\t", false, r"[^\s] is non-whitespace"),
    (r"[^\w]", "-", true, r"[^\w] is a non-word character"),
    (r"[^\w]", "a", false, r"[^\w] is a non-word character"),
    (r"[^\w\s]", "-", true, r"negation applies to the union"),
    (r"[^\w\s]", " ", false, r"negation applies to the union"),
    (r"[\d-z]", "-", true, r"a class never starts a range: the - after it is literal"),
    (r"[\d-z]", "z", true, r"a class never starts a range"),
    (r"[\d-z]", "m", false, r"a class never starts a range"),
    (r"[a-\d]", "c", true, r"a range ends on one character: \d there is the letter d"),
    (r"[a-\d]", "5", false, r"a range ends on one character"),
    // Escapes: `\` before a character that is not a letter makes it literal.
    (r"\.", ".", true, r"\. is a literal dot"),
    (r"\.", "x", false, r"\. is not any character"),
    (r"\*", "*", true, r"escaped metacharacter"),
    (r"\+", "+", true, r"escaped metacharacter"),
    (r"\?", "?", true, r"escaped metacharacter"),
    (r"\(\)", "()", true, r"escaped metacharacter"),
    (r"\[\]", "[]", true, r"escaped metacharacter"),
    (r"\{\}", "{}", true, r"escaped metacharacter"),
    (r"\|", "|", true, r"escaped metacharacter"),
    (r"\@", "@", true, r"escaped @ is not any string"),
    (r"\#", "#", true, r"escaped # is not the empty language"),
    (r"\~", "~", true, r"escaped ~ is not a complement"),
    (r"\&", "&", true, r"escaped & is not an intersection"),
    (r"\<\>", "<>", true, r"escaped < is not an interval"),
    (r#"\""#, "\"", true, r#"escaped " opens no string"#),
    (r"\^\$", "^$", true, r"escaped ^ and $"),
    (r"\/", "/", true, r"escaped slash"),
    (r"\-", "-", true, r"escaped hyphen"),
    (r"\ ", " ", true, r"escaped space"),
    (r"\5", "5", true, r"escaped digit is the digit (no backreferences)"),
    (r"\é", "é", true, r"escaped non-ASCII letter is literal (only ASCII letters are refused)"),
    (r"\\", "\\", true, r"\\ is one backslash"),
    (r"\\d", "\\d", true, r"\\d is a backslash and the letter d"),
    (r"\\\d", "\\5", true, r"\\\d is a backslash and a digit"),
    // Escapes in brackets.
    (r"[\-]", "-", true, r"escaped hyphen in brackets"),
    (r"[a\-z]", "-", true, r"escaped hyphen is no range"),
    (r"[a\-z]", "m", false, r"escaped hyphen is no range"),
    (r"[\]]", "]", true, r"escaped ] in brackets"),
    (r"[\\]", "\\", true, r"\\ in brackets is a backslash"),
    (r"[\\-z]", "-", true, r"\\ never starts a range in Lucene 9: [\\-z] is {\, -, z}"),
    (r"[\\-z]", "a", false, r"\\ never starts a range in Lucene 9"),
    (r"[\.-z]", "a", true, r"another escaped character does start a range: . to z"),
    (r"[!-\\]", "A", true, r"a range may end on an escaped backslash"),
    // Brackets.
    ("[]a]", "]", true, "] first in brackets is a character"),
    ("[]a]", "a", true, "] first in brackets is a character"),
    ("[^]a]", "b", true, "] first after ^ is a character"),
    ("[^]a]", "]", false, "] first after ^ is a character"),
    ("[a^]", "^", true, "^ not first is a character"),
    ("[.]", ".", true, ". in brackets is a character"),
    ("[.]", "x", false, ". in brackets is a character"),
    ("[@#\"<(~&|]", "~", true, "operators are characters in brackets"),
    ("[@#\"<(~&|]", "\"", true, "operators are characters in brackets"),
    ("[[]", "[", true, "[ in brackets is a character"),
    ("[a-z-]", "-", true, "- after a range is a character"),
    ("[-a]", "-", true, "- first is a character"),
    ("[^-]", "-", false, "- first after ^ is a character"),
    ("[^-]", "a", true, "- first after ^ is a character"),
    ("[+--]", ",", true, "a range from + to -"),
    ("[^a-c]", "é", true, "a negated class takes every other character"),
    // Everything else.
    ("curl", "curl", true, "a literal"),
    ("cu", "curl", false, "anchored at both ends"),
    ("url", "curl", false, "anchored at both ends"),
    ("^a$", "^a$", true, "^ and $ are characters"),
    ("^a$", "a", false, "^ and $ are not anchors"),
    (".", "é", true, ". is one code point"),
    (".", "\n", true, ". includes the newline"),
    (".", "ab", false, ". is one character"),
    ("@", "", true, "@ is any string"),
    ("@", "any\nthing", true, "@ is any string"),
    ("a@z", "a to z", true, "@ inside a concatenation"),
    ("#", "", false, "# is the empty language"),
    ("#", "#", false, "# is the empty language"),
    ("a|#", "a", true, "# in an alternative"),
    ("#*", "", false, "Operations.repeat keeps the empty language empty: #* matches nothing"),
    ("#+", "", false, "Operations.repeat keeps the empty language empty"),
    ("#?", "", true, "the empty language made optional is the empty string"),
    ("#{0,2}", "", true, "a bounded repetition from 0 includes the empty string"),
    ("(\\w#?)*", "", true, "#? is the empty string, so the group is \\w and repeats"),
    ("(\\w#)*", "", false, "a group that matches nothing repeats into nothing"),
    ("a|#?", "", true, "an alternative of #? is the empty string"),
    ("\"a.b\"c", "a.bc", true, "\"…\" quotes a string"),
    ("\"a.b\"c", "axbc", false, "quoted . is a character"),
    (r#""\d""#, "\\d", true, "no escapes inside quotes"),
    ("\"\"", "", true, "\"\" is the empty string"),
    ("", "", true, "the empty pattern is the empty string"),
    ("", "a", false, "the empty pattern is the empty string"),
    ("()", "", true, "() is the empty string"),
    ("a()b", "ab", true, "() is the empty string"),
    ("a{2}", "aa", true, "{n}"),
    ("a{2}", "aaa", false, "{n}"),
    ("a{2,}", "aaaaa", true, "{n,}"),
    ("a{2,}", "a", false, "{n,}"),
    ("a{2,3}", "aaa", true, "{n,m}"),
    ("a{2,3}", "aaaa", false, "{n,m}"),
    ("a{0}", "", true, "{0} is the empty string"),
    ("[a-z]{4,15}", "abcd", true, "{n,m} on a class"),
    ("[a-z]{4,15}", "abc", false, "{n,m} on a class"),
    ("a**", "aaa", true, "repetitions stack"),
    ("a+?", "", true, "a+? is (a+)?, not lazy"),
    (".*?net1.*?", "x net1 y", true, ".*? is (.*)?"),
    ("a{2}{3}", "aaaaaa", true, "a{2}{3} is (a{2}){3}"),
    ("a{2}{3}", "aaaaa", false, "a{2}{3} is (a{2}){3}"),
    ("*a", "*a", true, "a concatenation's first item is read as is: * there is a character"),
    ("+", "+", true, "a lone + is a character"),
    ("??", "", true, "the first ? is a character, the second makes it optional"),
    ("??", "?", true, "the first ? is a character, the second makes it optional"),
    ("{1}", "{1}", true, "{ first is a character"),
    ("|a", "|a", true, "| first is a character"),
    ("a||b", "|b", true, "| first in an alternative is a character"),
    ("(|)", "|", true, "| first in a group is a character"),
    ("&a", "&a", true, "& first is a character"),
    (")", ")", true, ") first is a character"),
    ("]", "]", true, "] outside brackets is a character"),
    ("}", "}", true, "} outside brackets is a character"),
    (">", ">", true, "> outside an interval is a character"),
    ("(ab|cd)+", "abcdab", true, "groups repeat"),
    ("ab|cd", "cd", true, "| is the loosest operator"),
    ("ab|cd", "abcd", false, "| is the loosest operator"),
    // Numeric intervals (`INTERVAL`, `Automata.makeDecimalInterval`).
    ("<1-10>", "7", true, "<n-m> is a number from n to m"),
    ("<1-10>", "10", true, "<n-m> includes both ends"),
    ("<1-10>", "11", false, "<n-m> stops at m"),
    ("<1-10>", "0", false, "<n-m> starts at n"),
    ("<1-10>", "007", true, "bounds of different lengths take any number of leading zeros"),
    ("<1-10>", "", false, "a number has at least one digit"),
    ("<01-10>", "01", true, "bounds of the same length fix the number of digits"),
    ("<01-10>", "1", false, "bounds of the same length fix the number of digits"),
    ("<01-10>", "001", false, "bounds of the same length fix the number of digits"),
    ("<5-5>", "05", false, "one-digit bounds fix one digit"),
    ("<10-1>", "5", true, "reversed bounds are swapped"),
    ("<0-0>", "000", false, "one-digit bounds fix one digit"),
    ("<0-10>", "000", true, "leading zeros of zero"),
    ("<095-105>", "099", true, "across a carry"),
    ("<095-105>", "100", true, "across a carry"),
    ("<095-105>", "094", false, "across a carry"),
    ("<095-105>", "106", false, "across a carry"),
    ("<095-105>", "99", false, "three digits exactly"),
    ("<1-1000>", "999", true, "across lengths"),
    ("<1-1000>", "1001", false, "across lengths"),
    ("<0-2147483647>", "2147483647", true, "bounds up to Java's Integer.MAX_VALUE"),
    ("<0-2147483647>", "2147483648", false, "bounds up to Java's Integer.MAX_VALUE"),
    ("<+5-10>", "05", true, "Integer.parseInt takes a + sign, which counts as a character"),
    ("x<1-3>y", "x2y", true, "an interval inside a concatenation"),
    ("[<1-3>]", "<", true, "< in brackets is a character"),
    ("[<1-3>]", "2", true, "< in brackets is a character"),
    // Corpus patterns (12de29d4, unquoted service path).
    (
        r"(C:\\Program Files \(x86\)\\|C:\\Program Files\\)\w+.exe",
        r"C:\Program Files\Common.exe",
        true,
        r"\w+ is a word",
    ),
    (
        r"(C:\\Program Files \(x86\)\\|C:\\Program Files\\)\w+.exe",
        r"C:\Program Files (x86)\Foo.exe",
        true,
        r"\w+ is a word",
    ),
    (
        r"(C:\\Program Files \(x86\)\\|C:\\Program Files\\)\w+.exe",
        r"C:\Program Files\Common Files\a.exe",
        false,
        r"\w+ has no space",
    ),
];

/// `regex~` (`ASCII_CASE_INSENSITIVE`): characters and strings fold, ranges and classes do not.
const CASE_INSENSITIVE: &[(&str, &str, bool, &str)] = &[
    ("curl", "CuRl", true, "characters fold (toCaseInsensitiveChar)"),
    ("\"CURL\"", "curl", true, "quoted strings fold (toCaseInsensitiveString)"),
    ("[a]", "A", true, "single characters in brackets fold"),
    ("[a-c]", "b", true, "a range"),
    ("[a-c]", "B", false, "ranges do not fold (makeCharRange ignores the flag)"),
    ("[a-cB]", "B", true, "a single character beside a range folds"),
    ("[^a]", "A", false, "a negated class folds before negating"),
    ("[^a-c]", "B", true, "a negated range does not fold"),
    (r"\w", "Z", true, r"\w has both cases anyway"),
    (r"\W", "a", false, r"\W has neither case"),
    (r"[^\W]", "Q", true, r"classes in brackets"),
    (r"\D", "D", true, r"\D unaffected"),
    ("ä", "Ä", false, "only ASCII letters fold"),
    ("k", "\u{212a}", false, "the Kelvin sign is not K"),
    // Lucene folds a string through `Operations.concatenate` of its characters, and of none that
    // is the empty language; `makeConcatenation` merges neighbouring characters and strings first,
    // folding from the left since Lucene 9.9 (9.5 folded from the right: the rows marked * differ).
    ("()", "", false, "an empty string folded is the empty language"),
    ("\"\"", "", false, "an empty string folded is the empty language"),
    ("", "", false, "the empty pattern too"),
    ("a|()", "", false, "an empty alternative"),
    ("a()", "A", true, "merged into a neighbouring character, the empty string is harmless"),
    ("\"\"b", "B", true, "merged into a neighbouring character"),
    ("x*()", "x", false, "not merged after a repetition: the concatenation is empty"),
    ("()x*", "x", false, "not merged before a repetition"),
    ("()(ab)", "AB", true, "merged into the string a group starts with"),
    ("()(a\\w)", "A1", true, "merged into the string a group of two starts with"),
    ("()(a\\w\\w)", "A11", false, "a group of three does not take it"),
    ("(x*a)()", "xa", true, "a group ending in a string, and all so far, takes it"),
    ("(x*y*a)()", "xya", true, "* a group of three too"),
    ("(x*a)()y*", "xa", true, "* whatever follows"),
    ("a(x*b)()", "axb", false, "a group that is not all so far does not take it"),
    ("(x*a)()b", "xab", true, "the empty string merges into the b after it"),
    ("[y]()", "Y", true, "a lone character in brackets merges like a character"),
    ("[yz]()", "y", false, "a class does not"),
    ("()*", "", false, "the empty language repeated"),
    ("()?", "", true, "the empty language made optional"),
    // Corpus patterns (3688577a BPFDoor, f5fb4598 space after filename).
    (r"/var/run/\w+\.(pid|lock|reboot)", "/var/run/haldrund.pid", true, r"\w+ is a word"),
    (r"/var/run/\w+\.(pid|lock|reboot)", "/VAR/RUN/x.PID", true, "strings fold, \\w has both cases"),
    (r"/var/run/\w+\.(pid|lock|reboot)", "/var/run/hald-rund.pid", false, r"\w has no hyphen"),
    (r"/[a-z0-9\s_\-\\./]+\s", "/tmp/.x/passwd ", true, r"ends in \s"),
    (r"/[a-z0-9\s_\-\\./]+\s", "/tmp/my files/run\t", true, r"\s in brackets, a tab at the end"),
    (r"/[a-z0-9\s_\-\\./]+\s", "/usr/bin/ps", false, r"\s is not the letter s"),
    (r"/[a-z0-9\s_\-\\./]+\s", "/tmp/Evil ", false, "[a-z] does not fold"),
];

/// Patterns Lucene refuses (or that eqlite refuses on purpose): (pattern, part of the error, why).
const ERRORS: &[(&str, &str, &str)] = &[
    (r"\a", "not a valid escape", "a backslash before a letter that names no class"),
    (r"[\q]", "not a valid escape", "also in brackets"),
    (r"a\", "ends with", "a backslash at the end"),
    (r"[a\", "not closed", "a backslash at the end of brackets"),
    ("[a", "not closed", "unclosed brackets"),
    ("[", "not closed", "unclosed brackets"),
    ("[]", "not closed", "] first is a character, so [] is unclosed"),
    ("[z-a]", "invalid range", "a range must ascend"),
    ("[a-]", "invalid range", "the range is a to ], which descends"),
    ("[+-]", "not closed", "the range is + to ], and no ] is left"),
    ("(a", "not closed", "unclosed group"),
    ("a)", "unexpected `)`", "a ) with no group"),
    ("a|", "ends early", "an alternative needs an item"),
    ("\"abc", "not closed", "unclosed quote"),
    ("a{", "expected a number", "{ needs a number"),
    ("a{x}", "expected a number", "{ needs a number"),
    ("a{,2}", "expected a number", "{ needs a number first"),
    ("a{2", "expected `}`", "unclosed {"),
    ("a{3,2}", "invalid repetition", "Lucene 9.5 reads this as the empty language, 9.9 refuses it"),
    ("a{1001}", "invalid repetition", "eqlite's bound on repetitions"),
    ("a{99999999999}", "invalid repetition", "too large for an int in Lucene"),
    ("~a", "complement", "eqlite refuses Lucene's complement: it needs determinization"),
    ("a~", "complement", "complement at the end"),
    ("a&b", "intersection", "eqlite refuses Lucene's intersection: it needs determinization"),
    ("(a|b&c)", "intersection", "intersection in a group"),
    ("<1-", "not closed", "unclosed interval"),
    ("<foo>", "names an automaton", "no named automata exist in Elasticsearch"),
    ("<>", "names an automaton", "an empty name"),
    ("<1-2-3>", "invalid numeric interval", "one - only"),
    ("<-1-3>", "invalid numeric interval", "no negative bounds"),
    ("<1->", "invalid numeric interval", "both bounds"),
    ("<a-b>", "invalid numeric interval", "digits only"),
    ("<0-2147483648>", "invalid numeric interval", "beyond Integer.MAX_VALUE"),
];

fn check(table: &[(&str, &str, bool, &str)], insensitive: bool) {
    let mut wrong = Vec::new();
    for &(pattern, value, want, rule) in table {
        match compile(pattern, insensitive) {
            Ok(r) if r.is_match(value) == want => {}
            Ok(_) => wrong.push(format!("{pattern:?} on {value:?}: expected match {want} ({rule})")),
            Err(e) => wrong.push(format!("{pattern:?}: unexpected error {e} ({rule})")),
        }
    }
    assert!(wrong.is_empty(), "{} of {} rows disagree with Lucene:\n{}", wrong.len(), table.len(), wrong.join("\n"));
}

#[test]
fn case_sensitive_rows() {
    check(CASE_SENSITIVE, false);
}

#[test]
fn case_insensitive_rows() {
    check(CASE_INSENSITIVE, true);
}

#[test]
fn errors_name_the_problem_and_its_position() {
    let mut wrong = Vec::new();
    for &(pattern, part, why) in ERRORS {
        match compile(pattern, false) {
            Ok(_) => wrong.push(format!("{pattern:?} compiled ({why})")),
            Err(e) if e.contains(part) && e.contains("position") => {}
            Err(e) => wrong.push(format!("{pattern:?}: {e:?} does not say {part:?} and a position ({why})")),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Lucene's `TestRegExp.testIllegalBackslashChars` and `testLegalBackslashChars`, outside and
/// inside brackets.
#[test]
fn backslash_before_each_ascii_letter_or_symbol() {
    for c in "abcefghijklmnopqrtuvxyzABCEFGHIJKLMNOPQRTUVXYZ".chars() {
        for p in [format!("\\{c}"), format!("[\\{c}]"), format!("x\\{c}y")] {
            let e = compile(&p, false).err().unwrap_or_else(|| panic!("{p:?} compiled"));
            assert!(e.contains(&format!("`\\{c}`")), "{p:?}: {e}");
        }
    }
    for c in "dDsSWw0123456789[]*&^$@!{}\\/".chars() {
        for p in [format!("\\{c}"), format!("[\\{c}]")] {
            assert!(compile(&p, false).is_ok(), "{p:?}");
        }
    }
}

/// The lazy DFA reads each value once: nested repetitions and classes do not make matching
/// backtrack (a backtracking engine would not finish these), and patterns whose automaton would
/// be huge are refused rather than built.
#[test]
fn matching_stays_linear() {
    let evil = format!("{}!", "a".repeat(100_000));
    for p in
        ["(a+)+b", "(a|aa)*b", "(a*)*b", ".*a.*a.*a.*a.*b", r"(\w+)+\s", r"(\w|\d)*\s", r"\w*\w*\w*\s", "(<0-99>|a)*x"]
    {
        assert!(!compile(p, false).unwrap().is_match(&evil), "{p}");
    }
    assert!(compile("(a{1000}){1000}", false).unwrap_err().contains("too large"));
}
