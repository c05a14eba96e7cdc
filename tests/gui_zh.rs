//! The window and the plain-text host in Simplified Chinese, through the real
//! catalogue (`po/zh_CN.po`, compiled by build.rs). The locale must be chosen
//! before gettext and GTK start, so this is a binary of its own with its own
//! `main`. Run under Xvfb: `xvfb-run -a cargo test --test gui_zh`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/fake_network.rs"]
mod fake_network;

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, TcpStream};
use std::time::Duration;

use adw::prelude::*;
use fake_network::FakeNetwork;
use tcp_chat::network::{Event, HostError};
use tcp_chat::server::{Limits, ServerConfig};
use tcp_chat::ui::launch::Launch;

/// Every label, button label and row title shown inside `root`.
fn texts_in(root: &gtk::Widget) -> Vec<String> {
    let mut texts = Vec::new();
    let mut pending = vec![root.clone()];
    while let Some(widget) = pending.pop() {
        if let Some(label) = widget.downcast_ref::<gtk::Label>() {
            texts.push(label.label().to_string());
        } else if let Some(button) = widget.downcast_ref::<gtk::Button>() {
            texts.extend(tcp_chat::ui::mnemonic_label(button));
        } else if let Some(row) = widget.downcast_ref::<adw::PreferencesRow>() {
            texts.push(row.title().to_string());
        }
        let mut child = widget.first_child();
        while let Some(next) = child {
            child = next.next_sibling();
            pending.push(next);
        }
    }
    texts
}

fn assert_shows(texts: &[String], wanted: &[&str]) {
    for text in wanted {
        assert!(
            texts.iter().any(|shown| shown == text),
            "“{text}” is not shown; shown: {texts:?}"
        );
    }
}

fn header_and_welcome_page_are_chinese() {
    let fake = FakeNetwork::new();
    let window = &fake.window;
    assert_eq!(window.host_button().label().as_deref(), Some("主持(_H)"));
    assert_eq!(window.connect_button().label().as_deref(), Some("连接(_C)"));
    let texts = texts_in(window.upcast_ref());
    assert_shows(
        &texts,
        &["在你的网络中聊天", "主持聊天室(_H)", "加入聊天室(_J)"],
    );
    fake.close();
}

fn join_forms_are_chinese() {
    let fake = FakeNetwork::new();
    let host = fake.window.host_form();
    assert_shows(
        &texts_in(host.upcast_ref()),
        &["主持聊天室", "昵称", "端口", "聊天室", "密码（可选）"],
    );
    assert_eq!(
        tcp_chat::ui::mnemonic_label(&host.submit_button()).as_deref(),
        Some("开设聊天室(_O)")
    );
    let connect = fake.window.connect_form();
    assert_shows(
        &texts_in(connect.upcast_ref()),
        &["加入聊天室", "地址", "昵称"],
    );
    assert_eq!(
        tcp_chat::ui::mnemonic_label(&connect.submit_button()).as_deref(),
        Some("加入(_J)")
    );
    fake.close();
}

fn banner_is_chinese() {
    let fake = FakeNetwork::new();
    fake.window.launch(Launch::Host {
        port: 6667,
        nick: Some("mei".into()),
        room: None,
    });
    fake.settle();
    fake.feed([Event::HostFailed(HostError::PortInUse { port: 6667 })]);
    let banner = fake.window.banner();
    assert_eq!(
        banner.shown_message().as_deref(),
        Some("本机的端口 6667 已被占用。")
    );
    assert_eq!(
        tcp_chat::ui::mnemonic_label(&banner.remedy_button()).as_deref(),
        Some("选择其他端口(_C)")
    );
    fake.close();
}

/// Someone on `nc` is greeted in the host's language.
fn plain_text_host_greets_in_chinese() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let config = ServerConfig {
        bind: Some(Ipv4Addr::LOCALHOST.into()),
        port: 0,
        limits: Limits {
            plain_text_wait: Duration::from_millis(200),
            ..Limits::default()
        },
        ..ServerConfig::default()
    };
    let running = runtime.block_on(tcp_chat::server::start(config)).unwrap();
    let addr = running.local_addrs()[0];
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    // Silent for a moment: the host takes us for a plain-text user.
    let mut greeting = String::new();
    BufReader::new(stream).read_line(&mut greeting).unwrap();
    assert!(
        greeting.starts_with("欢迎来到 ") && greeting.contains("请问你叫什么名字？"),
        "greeting: {greeting:?}"
    );
    runtime.block_on(running.shutdown());
    runtime.shutdown_timeout(Duration::from_secs(5));
}

fn main() -> std::process::ExitCode {
    // Whatever the machine's locale: Chinese messages, and a locale that is
    // not plain "C" (glibc ignores LANGUAGE under "C").
    std::env::remove_var("LC_ALL");
    std::env::remove_var("LC_MESSAGES");
    std::env::set_var("LANG", "C.UTF-8");
    std::env::set_var("LANGUAGE", "zh_CN");
    tcp_chat::i18n::init();
    fake_network::init();
    fake_network::run_cases(&[
        (
            "header_and_welcome_page_are_chinese",
            header_and_welcome_page_are_chinese,
        ),
        ("join_forms_are_chinese", join_forms_are_chinese),
        ("banner_is_chinese", banner_is_chinese),
        (
            "plain_text_host_greets_in_chinese",
            plain_text_host_greets_in_chinese,
        ),
    ])
}
