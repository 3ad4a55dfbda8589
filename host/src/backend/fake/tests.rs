//! The fake keeps the Docker rules the engine depends on.

use super::*;

fn spec(id: &str, args: &[&str]) -> ServiceSpec {
    ServiceSpec {
        id: id.into(),
        image: "img".into(),
        args: args.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

#[tokio::test(start_paused = true)]
async fn a_kill_ends_a_running_exec_with_137() {
    let fake = Fake::new();
    let id = fake
        .start_service("run", "sc", &spec("app", &[]), None)
        .await
        .unwrap();
    fake.script("sleep", Script::hang());
    let (exec, ()) = tokio::join!(fake.exec(&id, "sleep", None), async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        fake.kill(&id, "SIGKILL").await.unwrap();
    });
    assert_eq!(exec.unwrap().exit_code, Some(137));
    let st = fake.inspect(&id).await.unwrap();
    assert_eq!(
        (st.running, st.exit_code, st.status.as_str(), st.pid),
        (false, Some(137), "exited", None)
    );
    assert!(fake.kill(&id, "SIGKILL").await.is_err(), "not running");
    assert!(fake.exec(&id, "true", None).await.is_err(), "not running");
}

#[tokio::test(start_paused = true)]
async fn an_exec_times_out_and_the_container_lives_on() {
    let fake = Fake::new();
    let id = fake
        .start_service("run", "sc", &spec("app", &[]), None)
        .await
        .unwrap();
    fake.script("slow", Script::exit(0).after(Duration::from_secs(5)));
    let out = fake
        .exec(&id, "slow", Some(Duration::from_secs(1)))
        .await
        .unwrap();
    assert!(out.timed_out);
    assert_eq!(out.exit_code, None);
    assert!(fake.inspect(&id).await.unwrap().running);
}

#[tokio::test]
async fn sigterm_follows_pid_1() {
    let fake = Fake::new();
    let keep = fake
        .start_service("run", "sc", &spec("keep", &[]), None)
        .await
        .unwrap();
    let own = fake
        .start_service("run", "sc", &spec("own", &["sleep", "9"]), None)
        .await
        .unwrap();
    fake.kill(&keep, "SIGTERM").await.unwrap();
    fake.kill(&own, "SIGTERM").await.unwrap();
    fake.kill(&own, "SIGUSR1").await.unwrap();
    assert_eq!(fake.state_of("keep").unwrap().exit_code, Some(0));
    assert!(fake.state_of("own").unwrap().running);
}

#[tokio::test]
async fn pause_unpause_and_their_refusals() {
    let fake = Fake::new();
    let id = fake
        .start_service("run", "sc", &spec("app", &[]), None)
        .await
        .unwrap();
    fake.pause(&id).await.unwrap();
    let st = fake.inspect(&id).await.unwrap();
    assert!(st.is_paused() && st.running);
    assert!(fake.pause(&id).await.is_err());
    assert!(fake.exec(&id, "true", None).await.is_err(), "paused");
    fake.unpause(&id).await.unwrap();
    assert!(fake.unpause(&id).await.is_err());
    assert_eq!(fake.inspect(&id).await.unwrap().status, "running");
}

#[tokio::test]
async fn networks_keep_dockers_rules() {
    let fake = Fake::new();
    let net = fake.create_network("run", "sc").await.unwrap();
    let id = fake
        .start_service("run", "sc", &spec("app", &[]), Some(&net.name))
        .await
        .unwrap();
    assert!(fake.network_attached(&net.name, &id).await.unwrap());
    assert!(
        fake.remove_network(&net.id).await.is_err(),
        "has an endpoint"
    );
    fake.network_disconnect(&net.id, &id).await.unwrap();
    assert!(!fake.network_attached(&net.name, &id).await.unwrap());
    assert!(fake.network_disconnect(&net.id, &id).await.is_err());
    fake.network_connect(&net.id, &id, "app").await.unwrap();
    assert!(fake.network_attached(&net.name, &id).await.unwrap());
    assert!(fake.remove(&id).await.unwrap());
    assert!(!fake.remove(&id).await.unwrap(), "already gone");
    assert!(fake.remove_network(&net.id).await.unwrap());
    assert!(!fake.remove_network(&net.id).await.unwrap());
    assert!(fake.held().is_empty());
}

#[tokio::test]
async fn leftovers_match_every_label_filter() {
    let fake = Fake::new();
    fake.create_network("run-a", "one").await.unwrap();
    fake.start_service("run-a", "one", &spec("app", &[]), None)
        .await
        .unwrap();
    fake.start_service("run-a", "two", &spec("app", &[]), None)
        .await
        .unwrap();
    fake.start_service("run-b", "one", &spec("app", &[]), None)
        .await
        .unwrap();
    let left = fake
        .leftovers(labels::scenario_filter("run-a", "one"))
        .await
        .unwrap();
    assert_eq!((left.containers.len(), left.networks.len()), (1, 1));
    let all = fake.leftovers(vec![labels::RUN.into()]).await.unwrap();
    assert_eq!(all.containers.len(), 3);
}

#[tokio::test]
async fn an_unreachable_daemon_answers_nothing() {
    let fake = Fake::new();
    let id = fake
        .start_service("run", "sc", &spec("app", &[]), None)
        .await
        .unwrap();
    fake.set_unreachable(true);
    assert!(fake.ping().await.unwrap_err().is_unreachable());
    assert!(fake.inspect(&id).await.unwrap_err().is_unreachable());
    assert!(fake.remove(&id).await.unwrap_err().is_unreachable());
    assert_eq!(fake.oom_kills(&id).await, None);
    fake.set_unreachable(false);
    assert_eq!(fake.oom_kills(&id).await, Some(0));
    assert!(fake.ensure_image("img").await.is_ok());
    fake.missing_image("img");
    assert!(matches!(
        fake.ensure_image("img").await,
        Err(BackendError::ImageMissing(_))
    ));
}
