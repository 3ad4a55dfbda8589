//! A scenario's commands: `run` (one command in the main service, or
//! commands run at once in several services) or `steps` (commands one after
//! another in the main service), exactly one of the two.

use super::de::{DurationText, TableOf, TableShape};
use super::diag::{Ctx, SuiteError};
use super::retry::{self, RetryField, RetryPolicy};
use super::service::{service_ref, ServiceSpec};
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;
use toml::Spanned;

/// `run`: one command in the main service (a shell line, or an argv array
/// exec'd without a shell), or commands run at once.
#[derive(Debug)]
pub enum Run {
    Command(String),
    Argv(Vec<String>),
    Parallel(Vec<Spanned<TableOf<RunEntry>>>),
    /// Strings and tables mixed: where the first element of the other kind is,
    /// and whether the array began with tables.
    Mixed(std::ops::Range<usize>, bool),
}

/// One element of `run = [...]`: an argv word, or a { service, command } table.
enum RunItem {
    Word(String),
    Entry(TableOf<RunEntry>),
}

impl<'de> Deserialize<'de> for RunItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RunItem;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an argv string or a { service, command } table")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RunItem, E> {
                Ok(RunItem::Word(v.to_string()))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<RunItem, A::Error> {
                RunEntry::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|e| RunItem::Entry(TableOf(e)))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Run {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Run;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "`run` to be a command string, or an array of { service, command } tables",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Run, E> {
                Ok(Run::Command(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Run, E> {
                Ok(Run::Command(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Run, A::Error> {
                let (mut words, mut entries) = (Vec::new(), Vec::new());
                let mut mixed = None;
                while let Some(e) = seq.next_element::<Spanned<RunItem>>()? {
                    let span = e.span();
                    match e.into_inner() {
                        RunItem::Word(w) if entries.is_empty() => words.push(w),
                        RunItem::Entry(t) if words.is_empty() => {
                            entries.push(Spanned::new(span, t))
                        }
                        _ => {
                            mixed.get_or_insert((span, !entries.is_empty()));
                        }
                    }
                }
                Ok(match mixed {
                    Some((span, tables)) => Run::Mixed(span, tables),
                    None if words.is_empty() => Run::Parallel(entries),
                    None => Run::Argv(words),
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// One entry of `run = [...]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunEntry {
    pub name: Option<String>,
    pub service: Spanned<String>,
    pub command: CommandLine,
    pub timeout_ms: Option<u64>,
    /// `timeout_ms` as text (`"1s"`), as the original clnrm files write it.
    pub timeout: Option<Spanned<DurationText>>,
    pub retry: Option<RetryField>,
}

impl TableShape for RunEntry {
    const EXPECTING: &'static str =
        "a { service, command } table (name, timeout_ms and retry optional)";
}

/// One entry of `steps = [...]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepDef {
    pub name: Option<String>,
    pub run: CommandLine,
    pub timeout_ms: Option<u64>,
    /// `timeout_ms` as text (`"1s"`).
    pub timeout: Option<Spanned<DurationText>>,
    pub retry: Option<RetryField>,
}

impl TableShape for StepDef {
    const EXPECTING: &'static str = "a step table { name, run, timeout_ms, retry }";
}

/// A command: a shell command line, or (Docker's exec form) a list of argv
/// words, exec'd as they are without a shell (images without `sh` work);
/// `line` is its text (each word quoted for `sh`), which reports show.
#[derive(Debug, Clone)]
pub struct CommandLine {
    pub line: String,
    pub argv: Option<Vec<String>>,
}

impl<'de> Deserialize<'de> for CommandLine {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged, expecting = "a command string, or a list of argv strings")]
        enum Form {
            Line(String),
            Argv(Vec<String>),
        }
        Ok(match Form::deserialize(d)? {
            Form::Line(line) => CommandLine { line, argv: None },
            Form::Argv(words) => CommandLine {
                line: quoted(&words),
                argv: Some(words),
            },
        })
    }
}

/// Each word quoted for `sh -c`, so the line reads as the argv it stands for.
pub fn quoted(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("'{}'", w.replace('\'', "'\\''")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A step's own bound: `timeout_ms`, or `timeout` as text; not both.
fn bound(
    cx: &Ctx,
    ms: Option<u64>,
    text: &Option<Spanned<DurationText>>,
) -> Result<Option<Duration>, SuiteError> {
    match (ms, text) {
        (Some(_), Some(t)) => Err(cx.err(
            t.span(),
            "both `timeout_ms` and `timeout` are given".to_string(),
            Some("keep one: timeout_ms = 1000 or timeout = \"1s\"".into()),
        )),
        (ms, t) => Ok(ms
            .map(Duration::from_millis)
            .or(t.as_ref().map(|t| t.get_ref().0))),
    }
}

/// `steps`, as written.
pub type StepList = Spanned<Vec<Spanned<TableOf<StepDef>>>>;

#[derive(Debug, Clone)]
pub struct StepSpec {
    pub name: String,
    pub service: String,
    pub command: String,
    /// An argv array as written: exec'd without a shell (`command` is its
    /// quoted text for reports).
    pub argv: Option<Vec<String>>,
    /// The step's own bound; with `retry`, each attempt's.
    pub timeout: Option<Duration>,
    pub retry: Option<RetryPolicy>,
}

/// What the steps of one scenario are resolved against.
pub struct Scope<'a> {
    /// The scenario's name: the default step names derive from it, and
    /// errors about the scenario as a whole point at it.
    pub name: &'a Spanned<String>,
    /// The scenario's main service, checked, and where its `service = ` is.
    pub main: Option<&'a String>,
    pub main_span: Option<std::ops::Range<usize>>,
    /// The scenario's `timeout_ms`, the default bound on each step.
    pub timeout: Option<Duration>,
    pub services: &'a BTreeMap<String, ServiceSpec>,
}

/// A step runs in a started container: not in an `otel_collector`, which
/// the OTLP receiver serves and which is never started.
fn runs_in(
    cx: &Ctx,
    at: &Scope,
    service: &str,
    span: std::ops::Range<usize>,
) -> Result<(), SuiteError> {
    if at.services.get(service).is_some_and(|s| s.otel_collector) {
        return Err(cx.err(
            span,
            format!("no step can run in `{service}`: it is an otel_collector service, served by clnrm's OTLP receiver, and no container is started for it"),
            Some("run the step in the service that sends the spans (name the collector in parallel_services, or nowhere: it is served anyway), and check what arrived with [[expect.span]] service = \"<its service.name>\"".into()),
        ));
    }
    Ok(())
}

/// The steps, and whether they run at once (`run = [...]`).
pub fn resolve(
    cx: &Ctx,
    at: &Scope,
    run: Option<&Spanned<Run>>,
    steps: Option<&StepList>,
) -> Result<(Vec<StepSpec>, bool), SuiteError> {
    let name = at.name.get_ref();
    let need_main = |what: &str| {
        let main = at.main.cloned().ok_or_else(|| {
            cx.err(
                at.name.span(),
                format!("scenario `{name}` has {what} but no `service`"),
                Some("add service = \"<id>\" naming a [service.<id>] table".into()),
            )
        })?;
        runs_in(
            cx,
            at,
            &main,
            at.main_span.clone().unwrap_or(at.name.span()),
        )?;
        Ok::<_, SuiteError>(main)
    };
    let mut out = Vec::new();
    match (run, steps) {
        (Some(run), Some(_)) => Err(cx.err(
            run.span(),
            format!("scenario `{name}` has both `run` and `steps`"),
            Some("use `run` for one command (or commands at once), `steps` for a sequence".into()),
        )),
        (None, None) => Err(cx.err(
            at.name.span(),
            format!("scenario `{name}` has nothing to run"),
            Some("add run = \"<command>\" or steps = [{ run = \"...\" }]".into()),
        )),
        (Some(run), None) => match run.get_ref() {
            Run::Command(cmd) => {
                out.push(StepSpec {
                    name: name.clone(),
                    service: need_main("`run`")?,
                    command: cmd.clone(),
                    argv: None,
                    timeout: at.timeout,
                    retry: None,
                });
                Ok((out, false))
            }
            Run::Mixed(span, tables) => Err(cx.err(
                span.clone(),
                if *tables {
                    "expected a { service, command } table: `run = [...]` mixes tables and argv strings"
                } else {
                    "expected an argv string: `run = [...]` mixes argv strings and tables"
                },
                Some("write run = [\"/bin/prog\", \"arg\"] (one command, no shell) or run = [{ service = \"<id>\", command = \"...\" }, ...]".into()),
            )),
            Run::Argv(words) => {
                out.push(StepSpec {
                    name: name.clone(),
                    service: need_main("`run`")?,
                    command: quoted(words),
                    argv: Some(words.clone()),
                    timeout: at.timeout,
                    retry: None,
                });
                Ok((out, false))
            }
            Run::Parallel(entries) => {
                if entries.is_empty() {
                    return Err(cx.err(
                        run.span(),
                        format!("scenario `{name}`: `run = []` has nothing to run"),
                        Some("write run = [{ service = \"<id>\", command = \"...\" }, ...]".into()),
                    ));
                }
                for e in entries {
                    let e = e.get_ref();
                    let service = service_ref(cx, &e.service, at.services)?;
                    runs_in(cx, at, &service, e.service.span())?;
                    out.push(StepSpec {
                        name: e
                            .name
                            .clone()
                            .unwrap_or_else(|| format!("{name}/{service}")),
                        service,
                        command: e.command.line.clone(),
                        argv: e.command.argv.clone(),
                        timeout: bound(cx, e.timeout_ms, &e.timeout)?.or(at.timeout),
                        retry: e.retry.as_ref().map(|r| retry::check(cx, r)).transpose()?,
                    });
                }
                Ok((out, true))
            }
        },
        (None, Some(list)) => {
            if list.get_ref().is_empty() {
                return Err(cx.err(
                    list.span(),
                    format!("scenario `{name}`: `steps = []` has nothing to run"),
                    Some("write steps = [{ run = \"...\" }, ...]".into()),
                ));
            }
            let service = need_main("`steps`")?;
            for (i, s) in list.get_ref().iter().enumerate() {
                let s = s.get_ref();
                out.push(StepSpec {
                    name: s.name.clone().unwrap_or_else(|| format!("{name}/{i}")),
                    service: service.clone(),
                    command: s.run.line.clone(),
                    argv: s.run.argv.clone(),
                    timeout: bound(cx, s.timeout_ms, &s.timeout)?.or(at.timeout),
                    retry: s.retry.as_ref().map(|r| retry::check(cx, r)).transpose()?,
                });
            }
            Ok((out, false))
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::suite::testing::{fails, load_text, OK};
    use std::time::Duration;

    #[test]
    fn run_entries_say_what_was_expected() {
        let (l, c, m, h) = fails(&OK.replace(
            "run = \"sleep 5\"",
            "run = [\n  { service = \"app\", comand = \"x\" },\n]",
        ));
        assert_eq!((l, c), (10, 22), "{m}");
        assert!(h.contains("did you mean `command`"), "{h}");
        let (l, c, m, _) = fails(&OK.replace("run = \"sleep 5\"", "run = 5"));
        assert_eq!((l, c), (9, 7), "{m}");
        assert!(
            m.contains(
                "expected `run` to be a command string, or an array of { service, command } tables"
            ),
            "{m}"
        );
        // An argv array: one command, no shell.
        let s =
            load_text(&OK.replace("run = \"sleep 5\"", "run = [\"/bin/sleep\", \"5\"]")).unwrap();
        let st = &s.scenarios[0].steps[0];
        assert_eq!(
            st.argv.as_deref(),
            Some(&["/bin/sleep".to_string(), "5".to_string()][..])
        );
        assert_eq!(st.command, "'/bin/sleep' '5'");
        assert!(s.scenarios[0].steps.len() == 1);
        let s = load_text(&OK.replace(
            "run = \"sleep 5\"",
            "steps = [{ run = [\"/bin/x\", \"it's\"] }]",
        ))
        .unwrap();
        assert_eq!(
            s.scenarios[0].steps[0].argv.as_deref().map(|a| a.len()),
            Some(2)
        );
        assert_eq!(s.scenarios[0].steps[0].command, "'/bin/x' 'it'\\''s'");
        let s = load_text(&OK).unwrap();
        assert_eq!(s.scenarios[0].steps[0].argv, None);
        let (l, c, m, _) = fails(&OK.replace(
            "run = \"sleep 5\"",
            "run = [\"x\", { service = \"app\", command = \"y\" }]",
        ));
        assert_eq!((l, c), (9, 13), "{m}");
        assert!(m.contains("mixes argv strings and tables"), "{m}");
        let (_, _, m, _) = fails(&OK.replace("run = \"sleep 5\"", "run = [5]"));
        assert!(
            m.contains("an argv string or a { service, command } table"),
            "{m}"
        );
        let (l, c, m, h) = fails(&OK.replace("run = \"sleep 5\"", "run = [{ service = \"app\" }]"));
        assert_eq!((l, c), (9, 8), "{m}");
        assert!(
            m.contains("missing field `command`") && h.contains("add command"),
            "{m} / {h}"
        );
        let (l, c, m, _) = fails(&OK.replace(
            "run = \"sleep 5\"",
            "run = [{ service = \"db\", command = \"x\" }]",
        ));
        assert_eq!((l, c), (9, 20), "{m}");
        assert!(m.contains("unknown service `db`"), "{m}");
        let (l, c, m, h) = fails(&OK.replace("run = \"sleep 5\"", "steps = [{ rn = \"x\" }]"));
        assert_eq!((l, c), (9, 12), "{m}");
        assert!(h.contains("did you mean `run`"), "{h}");
        let (_, _, m, _) = fails(&OK.replace("run = \"sleep 5\"", "run = []"));
        assert!(m.contains("`run = []` has nothing to run"), "{m}");
        let (l, c, m, _) = fails(&OK.replace("run = \"sleep 5\"", "steps = []"));
        assert_eq!((l, c), (9, 9), "{m}");
        assert!(m.contains("`steps = []` has nothing to run"), "{m}");
    }

    /// Docker's exec form, as the original clnrm files write `command`: each
    /// word quoted for `sh -c`, so it reaches the program as written.
    #[test]
    fn argv_lists_are_quoted_word_by_word() {
        let s = load_text(&OK.replace(
            "run = \"sleep 5\"",
            "steps = [{ run = [\"printf\", \"%s|\", \"it's\", \"$HOME\"] }]",
        ))
        .unwrap();
        assert_eq!(
            s.scenarios[0].steps[0].command,
            r#"'printf' '%s|' 'it'\''s' '$HOME'"#
        );
        let s = load_text(&OK.replace(
            "run = \"sleep 5\"",
            "run = [{ service = \"app\", command = [\"true\"] }]",
        ))
        .unwrap();
        assert_eq!(s.scenarios[0].steps[0].command, "'true'");
        let (l, c, m, _) = fails(&OK.replace("run = \"sleep 5\"", "steps = [{ run = 5 }]"));
        assert_eq!((l, c), (9, 18), "{m}");
        assert!(
            m.contains("a command string, or a list of argv strings"),
            "{m}"
        );
    }

    /// `timeout = "1s"` as the original clnrm files write it, on the scenario
    /// and on a step; one of the two forms, never both.
    #[test]
    fn timeouts_as_text() {
        let s = load_text(&OK.replace(
            "run = \"sleep 5\"",
            "timeout = \"3s\"\nsteps = [{ run = \"a\" }, { run = \"b\", timeout = \"1s 500ms\" }, { run = \"c\", timeout = \"250ms\" }]",
        ))
        .unwrap();
        let t: Vec<_> = s.scenarios[0].steps.iter().map(|s| s.timeout).collect();
        assert_eq!(
            t,
            [3000, 1500, 250].map(|ms| Some(Duration::from_millis(ms)))
        );
        let (l, c, m, h) = fails(&OK.replace(
            "run = \"sleep 5\"",
            "steps = [{ run = \"a\", timeout_ms = 5, timeout = \"1s\" }]",
        ));
        assert_eq!((l, c), (9, 49), "{m}");
        assert!(
            m.contains("both `timeout_ms` and `timeout`") && h.contains("keep one"),
            "{m}"
        );
        let (l, c, m, _) =
            fails(&OK.replace("run = \"sleep 5\"", "run = \"x\"\ntimeout = \"soon\""));
        assert_eq!((l, c), (10, 11), "{m}");
        assert!(m.contains("\"soon\" is not a duration"), "{m}");
        let (_, _, m, _) = fails(&OK.replace("run = \"sleep 5\"", "run = \"x\"\ntimeout = \"0s\""));
        assert!(m.contains("at least 1ms"), "{m}");
    }

    #[test]
    fn run_or_steps_exactly_once_and_a_main_service() {
        let (l, c, m, _) = fails(&OK.replace(
            "run = \"sleep 5\"",
            "run = \"x\"\nsteps = [{ run = \"y\" }]",
        ));
        assert_eq!((l, c), (9, 7), "{m}");
        assert!(m.contains("both `run` and `steps`"), "{m}");
        let (l, c, m, _) = fails(&OK.replace("run = \"sleep 5\"\n", ""));
        assert_eq!((l, c), (7, 8), "{m}");
        assert!(m.contains("has nothing to run"), "{m}");
        let (l, c, m, h) = fails(&OK.replace("service = \"app\"\n", ""));
        assert_eq!((l, c), (7, 8), "{m}");
        assert!(
            m.contains("has `run` but no `service`") && h.contains("add service"),
            "{m}"
        );
        let (_, _, m, _) = fails(
            &OK.replace("service = \"app\"\n", "")
                .replace("run = \"sleep 5\"", "steps = [{ run = \"y\" }]"),
        );
        assert!(m.contains("has `steps` but no `service`"), "{m}");
    }

    #[test]
    fn step_names_and_timeouts() {
        let s = load_text(&OK.replace(
            "run = \"sleep 5\"",
            "timeout_ms = 40\nsteps = [{ run = \"a\" }, { name = \"b\", run = \"b\", timeout_ms = 5 }]",
        ))
        .unwrap();
        let st = &s.scenarios[0].steps;
        assert_eq!(
            st.iter()
                .map(|s| (
                    s.name.as_str(),
                    s.service.as_str(),
                    s.command.as_str(),
                    s.timeout
                ))
                .collect::<Vec<_>>(),
            [
                ("killed/0", "app", "a", Some(Duration::from_millis(40))),
                ("b", "app", "b", Some(Duration::from_millis(5))),
            ]
        );
        assert!(!s.scenarios[0].parallel);
    }

    /// An otel_collector is served by the receiver and never started: a
    /// step aimed at it (the scenario's service, or a `run` entry's) is a
    /// load-time error at that `service`, with a hint.
    #[test]
    fn no_step_runs_in_an_otel_collector() {
        let collector = "[service.otel_collector]\ntype = \"otel_collector\"\n[[scenario]]";
        let with = |scenario_service: &str, run: &str| {
            OK.replacen("[[scenario]]", collector, 1)
                .replace(
                    "service = \"app\"\n",
                    &format!("service = \"{scenario_service}\"\n"),
                )
                .replace("run = \"sleep 5\"", run)
        };
        // [service.otel_collector] and its type take lines 6-7: the scenario starts on 8.
        let (l, c, m, h) = fails(&with("otel_collector", "run = \"sleep 5\""));
        assert_eq!((l, c), (10, 11), "{m}");
        assert!(m.contains("no step can run in `otel_collector`"), "{m}");
        assert!(h.contains("[[expect.span]]"), "{h}");
        let (l, c, m, _) = fails(&with("otel_collector", "steps = [{ run = \"x\" }]"));
        assert_eq!((l, c), (10, 11), "{m}");
        let (l, c, m, _) = fails(&with(
            "app",
            "run = [{ service = \"app\", command = \"x\" }, { service = \"otel_collector\", command = \"y\" }]",
        ));
        assert_eq!((l, c), (11, 56), "{m}");
        assert!(m.contains("no step can run in `otel_collector`"), "{m}");
        // Named alongside the steps' service, it is fine: the receiver serves it.
        crate::suite::testing::load_text(&with("app", "run = \"true\"").replace(
            "expect_failure",
            "parallel_services = [\"otel_collector\"]\nexpect_failure",
        ))
        .expect("a collector next to the steps loads");
    }
}
