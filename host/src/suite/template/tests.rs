use super::*;
use std::path::PathBuf;

fn tpl(text: &str) -> Result<Rendered, SuiteError> {
    render(Path::new("t.clnrm.toml.tera"), text, &Values::new())
}

#[test]
fn what_is_a_template() {
    assert!(is_template(Path::new("x.clnrm.toml.tera"), "a = 1"));
    assert!(is_template(
        Path::new("x.clnrm.toml"),
        "{% if x %}{% endif %}"
    ));
    assert!(!is_template(
        Path::new("x.clnrm.toml"),
        "run = \"docker inspect -f '{{.State.Pid}}' {{ name }}\""
    ));
}

#[test]
fn no_prefix_variables_template_value_then_environment_then_default() {
    let env = |k: &str| (k == "ENV" || k == "SERVICE_NAME").then(|| format!("from-{k}"));
    let values: Values = [("svc".to_string(), "given".to_string())].into();
    let c = context(&values, &env);
    assert_eq!(c["svc"], "given");
    assert_eq!(c["env"], "from-ENV");
    assert_eq!(c["endpoint"], "http://localhost:4318");
    assert_eq!(c["exporter"], "otlp");
    assert_eq!(c["image"], "registry/clnrm:1.0.0");
    assert_eq!(c["freeze_clock"], "2025-01-01T00:00:00Z");
    assert_eq!(c["token"], "");
    assert_eq!(c["vars"]["svc"], "given");
}

#[test]
fn functions() {
    let r = tpl(concat!(
        "a = \"{{ sha256(s=\"abc\") }}\"\n",
        "{% set q = 'x\"y' %}b = {{ toml_encode(value=[q, 1, true]) }}\n",
        "c = {{ toml_encode(value={\"k.1\": \"v\"}) }}\n",
        "d = \"{{ env(name=\"CLNRM_SURELY_UNSET_VAR\", default=\"dflt\") }}\"\n",
        "[determinism]\nfreeze_clock = \"2030-02-03T04:05:06Z\"\n",
        "e = \"{{ now_rfc3339() }}\"\n",
    ))
    .unwrap();
    let v: toml::Table = toml::from_str(&r.text).unwrap();
    assert_eq!(
        v["a"].as_str().unwrap(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(v["b"].as_array().unwrap()[0].as_str(), Some("x\"y"));
    assert_eq!(v["c"]["k.1"].as_str(), Some("v"));
    assert_eq!(v["d"].as_str(), Some("dflt"));
    assert_eq!(v["determinism"]["e"].as_str(), Some("2030-02-03T04:05:06Z"));
    let e = tpl("x = \"{{ env(name=\"CLNRM_SURELY_UNSET_VAR\") }}\"").unwrap_err();
    assert!(
        e.message.contains("CLNRM_SURELY_UNSET_VAR"),
        "{}",
        e.message
    );
}

#[test]
fn literal_vars_are_template_values() {
    let r = tpl("[vars]\nsvc = \"shop\"\nn = 3\n[meta]\nname = \"{{ svc }}-{{ n }}\"\n").unwrap();
    assert!(r.text.contains("name = \"shop-3\""), "{}", r.text);
}

#[test]
fn macros_with_positional_and_named_arguments() {
    let r = tpl(concat!(
        "{% import \"_macros.toml.tera\" as m %}\n",
        "{{ m::service(\"app\", \"clnrm-base:latest\", env={\"A\": \"1\"}) }}\n",
        "{{ m::scenario(\"s\", \"app\", \"true\") }}\n",
        "{{ m::span(\"clnrm.run\", \"internal\", {\"result\": \"pass\"}) }}\n",
        "{{ m::lifecycle(\"{{ svc }}\") }}\n",
        "{{ m::edges([[\"a\", \"b\"]]) }}\n",
        "{{ m::count(\"internal\", 1, 9) }}\n",
    ))
    .unwrap();
    let v: toml::Table = toml::from_str(&r.text).unwrap_or_else(|e| panic!("{e}\n{}", r.text));
    assert_eq!(v["service"]["app"]["env"]["A"].as_str(), Some("1"));
    let spans = v["expect"]["span"].as_array().unwrap();
    assert_eq!(spans[0]["kind"].as_str(), Some("internal"));
    assert_eq!(spans[1]["name"].as_str(), Some("clnrm.start"));
    assert!(v["expect"]["graph"].is_array());
}

#[test]
fn template_errors_point_at_the_template_line() {
    let e = tpl("a = 1\nb = \"{{ nope }}\"\n").unwrap_err();
    assert_eq!((e.line, e.col), (2, 9), "{}", e.message);
    assert!(e.message.contains("nope"), "{}", e.message);
    let e = tpl("a = 1\n\n{% if %}\n").unwrap_err();
    assert_eq!(e.line, 3, "{}", e.message);
}

#[test]
fn rendered_errors_point_at_both_lines() {
    let text = "{% import \"_macros.toml.tera\" as m %}\n[meta]\nname = \"x\"\n{{ m::service(\"app\", \"img\") }}\n[[scenario]]\nname = \"s\"\nservice = \"app\"\nrun = \"true\"\ntimeout_ms = \"slow\"\n";
    let path = PathBuf::from("t.clnrm.toml.tera");
    let r = tpl(text).unwrap();
    assert_eq!(
        r.text.lines().nth(8),
        Some("timeout_ms = \"slow\""),
        "{}",
        r.text
    );
    let e = crate::suite::load::load_template(&path, text, &Values::new()).unwrap_err();
    assert_eq!((e.line, e.col), (9, 14), "{}", e.message);
    assert!(
        e.message
            .contains("rendered: t.clnrm.toml.tera (rendered):9:14: timeout_ms = \"slow\""),
        "{}",
        e.message
    );
    // An error on a line a macro wrote points at the macro call.
    let text = text.replace(
        "timeout_ms = \"slow\"\n",
        "\n{{ m::scenario(\"t\", \"nosuch\", \"true\") }}\n",
    );
    let e = crate::suite::load::load_template(&path, &text, &Values::new()).unwrap_err();
    assert_eq!(e.line, 10, "{}", e.message);
    assert!(e.message.contains("nosuch"), "{}", e.message);
}
