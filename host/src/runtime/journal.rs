//! Record and replay of plugin host calls. Every host call a chaos plugin
//! makes goes through its store's [`Journal`]:
//!
//! - `Live`: just do it.
//! - `Record`: do it and append (call, args, result).
//! - `Replay`: take the next recorded call, check that the plugin asks for
//!   the same thing with the same arguments, and then either *answer* it from
//!   the recording (Docker and clock calls: no Docker needed, no real sleep)
//!   or *execute* it and check the result too (rng: a changed seed shows up;
//!   spans: the trace is rebuilt by the replayed plugin itself). The first
//!   mismatch is a [`Divergence`] and stops the plugin.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One host call as recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallRecord {
    /// Interface and function, e.g. "container.kill".
    pub call: String,
    pub args: Value,
    pub result: Value,
    /// `compose.run` / `compose.run-all`: the host calls of each composed
    /// fault's own plugin call, in the order of its faults (replay re-runs
    /// those plugins on them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nested: Vec<Vec<CallRecord>>,
}

impl CallRecord {
    fn show(call: &str, args: &Value) -> String {
        let args = match args {
            Value::Array(a) => a
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            other => other.to_string(),
        };
        format!("{call}({args})")
    }
}

/// Where and how a replayed plugin first behaved differently.
#[derive(Clone, Debug, PartialEq, Serialize, thiserror::Error)]
#[error("call #{index}: expected {expected}, got {actual}")]
pub struct Divergence {
    /// 1-based index of the host call within this plugin call.
    pub index: usize,
    pub expected: String,
    pub actual: String,
}

#[derive(Debug, Default)]
pub enum Journal {
    #[default]
    Live,
    Record(Vec<CallRecord>),
    Replay {
        calls: Vec<CallRecord>,
        next: usize,
        divergence: Option<Divergence>,
    },
}

/// What `before` decided for a call.
pub enum Step<T> {
    /// Do the call (live, record, or an executed call in replay).
    Run,
    /// Replay answered it: use this.
    Answered(T),
}

impl Journal {
    pub fn replay(calls: Vec<CallRecord>) -> Journal {
        Journal::Replay {
            calls,
            next: 0,
            divergence: None,
        }
    }

    pub fn is_replay(&self) -> bool {
        matches!(self, Journal::Replay { .. })
    }

    fn diverge(&mut self, expected: String, actual: String) -> wasmtime::Error {
        if let Journal::Replay {
            next, divergence, ..
        } = self
        {
            let d = Divergence {
                index: *next + 1,
                expected,
                actual,
            };
            let msg = format!("replay divergence: {d}");
            divergence.get_or_insert(d);
            return wasmtime::format_err!("{msg}");
        }
        wasmtime::format_err!("replay divergence outside replay")
    }

    /// The next recorded call, checked against what the plugin asks now.
    fn take(&mut self, call: &str, args: &Value) -> wasmtime::Result<CallRecord> {
        let Journal::Replay { calls, next, .. } = self else {
            return Err(wasmtime::format_err!("not replaying"));
        };
        let actual = CallRecord::show(call, args);
        match calls.get(*next).cloned() {
            None => Err(self.diverge("the end of the recording".into(), actual)),
            Some(rec) if rec.call != call || rec.args != *args => {
                Err(self.diverge(CallRecord::show(&rec.call, &rec.args), actual))
            }
            Some(rec) => {
                if let Journal::Replay { next, .. } = self {
                    *next += 1;
                }
                Ok(rec)
            }
        }
    }

    /// For calls replay answers (Docker, clock): the recorded result, or
    /// `Run` when not replaying.
    pub fn answer<T: DeserializeOwned>(
        &mut self,
        call: &str,
        args: &Value,
    ) -> wasmtime::Result<Step<T>> {
        if !self.is_replay() {
            return Ok(Step::Run);
        }
        let rec = self.take(call, args)?;
        serde_json::from_value(rec.result.clone())
            .map(Step::Answered)
            .map_err(|e| {
                self.diverge(
                    format!("a result of another shape ({e})"),
                    CallRecord::show(call, args),
                )
            })
    }

    /// For calls replay executes (rng, spans): check the call now, and the
    /// result in [`Journal::after`].
    pub fn check(&mut self, call: &str, args: &Value) -> wasmtime::Result<Option<Value>> {
        if !self.is_replay() {
            return Ok(None);
        }
        Ok(Some(self.take(call, args)?.result))
    }

    /// After a call ran: record it, or (replay) compare its result with the
    /// recorded one.
    pub fn after<T: Serialize>(
        &mut self,
        call: &str,
        args: Value,
        result: &T,
        recorded: Option<Value>,
    ) -> wasmtime::Result<()> {
        let value = serde_json::to_value(result).unwrap_or(Value::Null);
        match self {
            Journal::Record(calls) => calls.push(CallRecord {
                call: call.to_string(),
                args,
                result: value,
                nested: Vec::new(),
            }),
            Journal::Replay { .. } => {
                if let Some(rec) = recorded {
                    if rec != value {
                        if let Journal::Replay { next, .. } = self {
                            *next -= 1;
                        }
                        return Err(self.diverge(
                            format!("{} -> {rec}", CallRecord::show(call, &args)),
                            format!("{} -> {value}", CallRecord::show(call, &args)),
                        ));
                    }
                }
            }
            Journal::Live => {}
        }
        Ok(())
    }

    /// A call that runs other plugin calls (`compose.*`): in replay, the
    /// recorded result and the recorded calls of each nested plugin call,
    /// after checking the call itself; None when not replaying.
    pub fn check_nested(
        &mut self,
        call: &str,
        args: &Value,
    ) -> wasmtime::Result<Option<(Value, Vec<Vec<CallRecord>>)>> {
        if !self.is_replay() {
            return Ok(None);
        }
        let rec = self.take(call, args)?;
        Ok(Some((rec.result, rec.nested)))
    }

    /// A nested plugin call of the call just taken diverged: the divergence
    /// of this journal, at that call, naming the nested one.
    pub fn nested_divergence(
        &mut self,
        call: &str,
        fault: usize,
        d: Divergence,
    ) -> wasmtime::Error {
        if let Journal::Replay { next, .. } = self {
            *next = next.saturating_sub(1);
        }
        self.diverge(
            format!(
                "{call}, fault #{}, its call #{}: {}",
                fault + 1,
                d.index,
                d.expected
            ),
            d.actual,
        )
    }

    /// After a nested call ran: record it with each nested plugin call's
    /// host calls, or (replay) compare its result with the recorded one.
    pub fn after_nested<T: Serialize>(
        &mut self,
        call: &str,
        args: Value,
        result: &T,
        recorded: Option<Value>,
        nested: Vec<Vec<CallRecord>>,
    ) -> wasmtime::Result<()> {
        self.after(call, args, result, recorded)?;
        if let Journal::Record(calls) = self {
            if let Some(last) = calls.last_mut() {
                last.nested = nested;
            }
        }
        Ok(())
    }

    /// The journal a nested plugin call gets: live, recording, or replaying
    /// `recorded` (its share of the recorded nested calls).
    pub fn nested(&self, recorded: Option<Vec<CallRecord>>) -> Journal {
        match self {
            Journal::Live => Journal::Live,
            Journal::Record(_) => Journal::Record(Vec::new()),
            Journal::Replay { .. } => Journal::replay(recorded.unwrap_or_default()),
        }
    }

    /// At the end of a replayed plugin call: calls left over are a divergence
    /// (the plugin stopped early).
    pub fn finish(&mut self) -> Option<Divergence> {
        if let Journal::Replay {
            calls,
            next,
            divergence,
        } = self
        {
            if divergence.is_none() {
                if let Some(rec) = calls.get(*next) {
                    *divergence = Some(Divergence {
                        index: *next + 1,
                        expected: CallRecord::show(&rec.call, &rec.args),
                        actual: "the plugin returning".into(),
                    });
                }
            }
            return divergence.clone();
        }
        None
    }

    pub fn into_calls(self) -> Vec<CallRecord> {
        match self {
            Journal::Record(c) => c,
            Journal::Replay { calls, .. } => calls,
            Journal::Live => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn record_then_replay_answers_and_detects_divergence() {
        let mut j = Journal::Record(Vec::new());
        j.after(
            "container.kill",
            json!(["app", "SIGKILL"]),
            &Ok::<(), String>(()),
            None,
        )
        .unwrap();
        j.after("clock.now-ms", json!([]), &1234u64, None).unwrap();
        let calls = j.into_calls();

        let mut r = Journal::replay(calls.clone());
        assert!(matches!(
            r.answer::<Result<(), String>>("container.kill", &json!(["app", "SIGKILL"]))
                .unwrap(),
            Step::Answered(Ok(()))
        ));
        assert!(matches!(
            r.answer::<u64>("clock.now-ms", &json!([])).unwrap(),
            Step::Answered(1234)
        ));
        assert_eq!(r.finish(), None);

        let mut r = Journal::replay(calls);
        assert!(r
            .answer::<Result<(), String>>("container.kill", &json!(["app", "SIGTERM"]))
            .is_err());
        let d = r.finish().unwrap();
        assert_eq!(d.index, 1);
        assert_eq!(d.expected, r#"container.kill("app", "SIGKILL")"#);
        assert_eq!(d.actual, r#"container.kill("app", "SIGTERM")"#);
    }

    #[test]
    fn nested_calls_are_recorded_with_their_plugin_calls_and_replayed() {
        let inner = vec![CallRecord {
            call: "container.kill".into(),
            args: json!(["a", "SIGKILL"]),
            result: json!({"Ok": null}),
            nested: Vec::new(),
        }];
        let mut j = Journal::Record(Vec::new());
        assert!(matches!(j.nested(None), Journal::Record(_)));
        j.after_nested("compose.run", json!(["x"]), &1u8, None, vec![inner.clone()])
            .unwrap();
        let calls = j.into_calls();
        assert_eq!(calls[0].nested, vec![inner.clone()]);
        // Serialized without `nested` when empty: older recordings read the same.
        let text = serde_json::to_string(&inner[0]).unwrap();
        assert!(!text.contains("nested"), "{text}");

        let mut r = Journal::replay(calls);
        let (result, nested) = r
            .check_nested("compose.run", &json!(["x"]))
            .unwrap()
            .unwrap();
        assert_eq!((result, nested.clone()), (json!(1), vec![inner]));
        let mut n = r.nested(nested.into_iter().next());
        assert!(n.is_replay());
        assert!(n
            .answer::<Value>("container.kill", &json!(["a", "SIGTERM"]))
            .is_err());
        let d = n.finish().unwrap();
        let _ = r.nested_divergence("compose.run", 0, d);
        let d = r.finish().unwrap();
        assert_eq!(d.index, 1);
        assert!(
            d.expected.contains("compose.run, fault #1, its call #1"),
            "{}",
            d.expected
        );
        assert_eq!(d.actual, r#"container.kill("a", "SIGTERM")"#);
    }

    #[test]
    fn executed_calls_compare_results_and_leftovers_diverge() {
        let calls = vec![
            CallRecord {
                call: "rng.next-u64".into(),
                args: json!([]),
                result: json!(7),
                nested: Vec::new(),
            },
            CallRecord {
                call: "clock.now-ms".into(),
                args: json!([]),
                result: json!(1),
                nested: Vec::new(),
            },
        ];
        let mut r = Journal::replay(calls.clone());
        let rec = r.check("rng.next-u64", &json!([])).unwrap();
        assert!(
            r.after("rng.next-u64", json!([]), &8u64, rec).is_err(),
            "another value: another seed"
        );
        assert_eq!(r.finish().unwrap().index, 1);

        let mut r = Journal::replay(calls);
        let rec = r.check("rng.next-u64", &json!([])).unwrap();
        r.after("rng.next-u64", json!([]), &7u64, rec).unwrap();
        let d = r.finish().unwrap();
        assert_eq!((d.index, d.actual.as_str()), (2, "the plugin returning"));
    }
}
