//! HTTPS_PROXY, HTTP_PROXY and NO_PROXY, as docker and podman (Go) read them: a registry
//! reached through a proxy of the test's own, one that NO_PROXY names reached directly,
//! and a loopback registry never proxied.

use super::pull::{app_image, md, push};
use crate::common::forward_proxy::ForwardProxy;
use crate::common::oci_layout::Comp;
use crate::common::registry::{free_port, Registry};
use crate::common::*;

#[test]
fn https_proxy_is_used_and_no_proxy_and_loopback_bypass_it() {
    let env = TestEnv::bare();
    let reg = Registry::start(&env.dir);
    push(
        &env,
        &app_image("amd64", Comp::Gzip),
        &format!("{}/proxied:1", reg.host()),
        None,
    );
    let proxy = ForwardProxy::start(reg.port);
    // `registry.test` resolves nowhere: only the proxy (which sends everything to the
    // registry) can reach it.
    let name = format!("registry.test:{}/proxied:1", reg.port);
    let via = |env: &TestEnv, reference: &str, proxy_url: &str, no_proxy: &str| {
        md(env, &["pull", "-q", "--tls-verify=false", reference])
            .env("HTTPS_PROXY", proxy_url)
            .env("HTTP_PROXY", proxy_url)
            .env("NO_PROXY", no_proxy)
            .run()
    };

    let out = via(&env, &name, &proxy.url(), "example.org");
    out.assert_ok();
    let (connects, plain) = proxy.counts();
    // HTTPS first (a CONNECT tunnel), then plain HTTP (allowed by --tls-verify=false).
    assert!(connects >= 1 && plain >= 1, "{connects} {plain}");
    env.run(&[&name, "x"]).assert_ok();

    // NO_PROXY names the registry's domain: straight to `registry.test`, which fails.
    let other = TestEnv::bare();
    let out = via(&other, &name, &proxy.url(), "example.org, .test");
    out.assert_mdrun_error();
    assert!(out.stderr.contains("cannot reach the registry"), "{out}");
    assert_eq!(proxy.counts(), (connects, plain), "the proxy was not asked");

    // A loopback registry is never proxied (Go's rule), even through a proxy that
    // answers nothing.
    let dead = format!("http://127.0.0.1:{}", free_port());
    let local = format!("{}/proxied:1", reg.host());
    via(&other, &local, &dead, "").assert_ok();
    assert_eq!(proxy.counts(), (connects, plain));
    other.mdrun(&["rmi", &local]).assert_ok();
    other.assert_clean();
    env.mdrun(&["rmi", &name]).assert_ok();
    env.assert_clean();
}
