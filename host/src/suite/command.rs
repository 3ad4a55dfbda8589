//! What a service runs: `command` (Compose's name; `args` is its synonym)
//! and `entrypoint`, each an argv array or a string split as a shell would
//! (no shell runs it), and `keep_alive`.

use serde::de::{self, Deserialize, Deserializer, SeqAccess, Visitor};
use std::fmt;

/// An argv as written: `["/app/server", "--port", "8080"]` or
/// `"/app/server --port 8080"` (split into words, quotes respected).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Words(pub Vec<String>);

impl<'de> Deserialize<'de> for Words {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Words;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a command: an array of argv strings, or a string split into words")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Words, E> {
                split_words(v).map(Words).map_err(E::custom)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Words, A::Error> {
                let mut out = Vec::new();
                while let Some(w) = seq.next_element::<String>()? {
                    out.push(w);
                }
                Ok(Words(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// Split a command line into words as `sh` would, without expansion:
/// whitespace separates, '…' keeps everything, "…" keeps all but `\"` and `\\`,
/// a backslash outside quotes escapes the next character.
pub fn split_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => cur.push(c),
                        None => return Err(format!("unclosed ' in {line:?}")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\')) => cur.push(c),
                            Some(c) => {
                                cur.push('\\');
                                cur.push(c)
                            }
                            None => return Err(format!("unclosed \" in {line:?}")),
                        },
                        Some(c) => cur.push(c),
                        None => return Err(format!("unclosed \" in {line:?}")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => cur.push(c),
                    None => return Err(format!("a trailing backslash in {line:?}")),
                }
            }
            c => {
                in_word = true;
                cur.push(c)
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// Whether an image's own command (entrypoint + cmd) is absent or a bare
/// shell, i.e. would exit at once without a terminal: such images get the
/// keep-alive unless the suite says otherwise.
pub fn is_absent_or_bare_shell(entrypoint: &[String], cmd: &[String]) -> bool {
    let all: Vec<&String> = entrypoint.iter().chain(cmd).collect();
    match all.as_slice() {
        [] => true,
        [one] => matches!(
            one.as_str(),
            "sh" | "/bin/sh" | "bash" | "/bin/bash" | "ash" | "/bin/ash" | "/usr/bin/bash"
        ),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_a_shell() {
        assert_eq!(split_words("a  b\tc").unwrap(), ["a", "b", "c"]);
        assert_eq!(
            split_words(r#"/app -m 'x y' "q \"z\"" e\ f ''"#).unwrap(),
            ["/app", "-m", "x y", "q \"z\"", "e f", ""]
        );
        assert!(split_words("a 'b").unwrap_err().contains("unclosed '"));
        assert!(split_words("a \"b").is_err());
        assert!(split_words("").unwrap().is_empty());
    }

    #[test]
    fn bare_shells() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(is_absent_or_bare_shell(&[], &[]));
        assert!(is_absent_or_bare_shell(&[], &s(&["sh"])));
        assert!(is_absent_or_bare_shell(&[], &s(&["/bin/sh"])));
        assert!(is_absent_or_bare_shell(&[], &s(&["bash"])));
        assert!(!is_absent_or_bare_shell(&[], &s(&["sh", "-c", "x"])));
        assert!(!is_absent_or_bare_shell(&s(&["/app/server"]), &[]));
        assert!(!is_absent_or_bare_shell(
            &[],
            &s(&["nginx", "-g", "daemon off;"])
        ));
    }
}
