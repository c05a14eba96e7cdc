//! What a desktop shell offers on the session bus, faked for the GUI tests:
//! an `org.freedesktop.Notifications` server that records what it is asked,
//! a listener for the launcher's `com.canonical.Unity.LauncherEntry`
//! count, and the AT-SPI bus launcher's `org.a11y.Status` (whether a screen
//! reader runs), when the tests own that name (GTK's accessibility off). It runs on a connection of its own (the app uses the shared
//! one), so the bus routes every call between them for real. Tests run on
//! a private bus: see [`on_private_bus`].
#![allow(dead_code)]

use std::cell::RefCell;
use std::rc::Rc;

use gtk::gio;
use gtk::prelude::*;

/// Re-runs this test binary under `dbus-run-session` unless it already
/// runs on a bus of its own, so nothing reaches the desktop's real bus.
/// Returns the child's exit code when it re-ran.
pub fn on_private_bus() -> Option<std::process::ExitCode> {
    const MARK: &str = "TCP_CHAT_PRIVATE_BUS";
    if std::env::var_os(MARK).is_some() {
        return None;
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let status = std::process::Command::new("dbus-run-session")
        .arg("--")
        .arg(exe)
        .args(std::env::args_os().skip(1))
        .env(MARK, "1")
        .status()
        .expect("dbus-run-session (package dbus-daemon) runs");
    Some(if status.success() {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    })
}

const NOTIFICATIONS_XML: &str = r#"
<node>
  <interface name="org.freedesktop.Notifications">
    <method name="Notify">
      <arg type="s" direction="in"/>
      <arg type="u" direction="in"/>
      <arg type="s" direction="in"/>
      <arg type="s" direction="in"/>
      <arg type="s" direction="in"/>
      <arg type="as" direction="in"/>
      <arg type="a{sv}" direction="in"/>
      <arg type="i" direction="in"/>
      <arg type="u" direction="out"/>
    </method>
    <method name="CloseNotification">
      <arg type="u" direction="in"/>
    </method>
    <method name="GetCapabilities">
      <arg type="as" direction="out"/>
    </method>
    <method name="GetServerInformation">
      <arg type="s" direction="out"/>
      <arg type="s" direction="out"/>
      <arg type="s" direction="out"/>
      <arg type="s" direction="out"/>
    </method>
    <signal name="ActionInvoked">
      <arg type="u"/>
      <arg type="s"/>
    </signal>
    <signal name="NotificationClosed">
      <arg type="u"/>
      <arg type="u"/>
    </signal>
  </interface>
</node>"#;

/// One `Notify` call as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    /// The id the server answered (the same as `replaces` on an update).
    pub id: u32,
    pub replaces: u32,
    pub summary: String,
    pub body: String,
}

#[derive(Debug, Default)]
pub struct Record {
    pub shown: Vec<Shown>,
    pub closed: Vec<u32>,
    /// Every launcher count announced, in order.
    pub launcher_counts: Vec<i64>,
}

const A11Y_STATUS_XML: &str = r#"
<node>
  <interface name="org.a11y.Status">
    <property name="IsEnabled" type="b" access="read"/>
    <property name="ScreenReaderEnabled" type="b" access="read"/>
  </interface>
</node>"#;

pub struct DesktopBus {
    connection: gio::DBusConnection,
    pub record: Rc<RefCell<Record>>,
    _launcher: gio::SignalSubscription,
    screen_reader: Rc<std::cell::Cell<bool>>,
}

impl DesktopBus {
    /// Starts serving on the session bus; the name is ours before this
    /// returns.
    pub fn start() -> Self {
        let address =
            gio::dbus_address_get_for_bus_sync(gio::BusType::Session, None::<&gio::Cancellable>)
                .expect("a session bus");
        let connection = gio::DBusConnection::for_address_sync(
            &address,
            gio::DBusConnectionFlags::AUTHENTICATION_CLIENT
                | gio::DBusConnectionFlags::MESSAGE_BUS_CONNECTION,
            None,
            None::<&gio::Cancellable>,
        )
        .expect("a second connection to the session bus");
        let record = Rc::new(RefCell::new(Record::default()));
        let node = gio::DBusNodeInfo::for_xml(NOTIFICATIONS_XML).expect("valid introspection");
        let interface = node
            .lookup_interface("org.freedesktop.Notifications")
            .expect("the interface");
        let next_id = Rc::new(RefCell::new(0_u32));
        let on_call = {
            let record = record.clone();
            move |_: gio::DBusConnection,
                  _: Option<&str>,
                  _: &str,
                  _: Option<&str>,
                  method: &str,
                  parameters: glib::Variant,
                  invocation: gio::DBusMethodInvocation| {
                match method {
                    "Notify" => {
                        let (_, replaces, _, summary, body, _, _, _) = parameters
                            .get::<(
                                String,
                                u32,
                                String,
                                String,
                                String,
                                Vec<String>,
                                glib::VariantDict,
                                i32,
                            )>()
                            .expect("Notify's signature");
                        let id = if replaces != 0 {
                            replaces
                        } else {
                            *next_id.borrow_mut() += 1;
                            *next_id.borrow()
                        };
                        record.borrow_mut().shown.push(Shown {
                            id,
                            replaces,
                            summary,
                            body,
                        });
                        invocation.return_value(Some(&(id,).to_variant()));
                    }
                    "CloseNotification" => {
                        let (id,) = parameters.get::<(u32,)>().expect("an id");
                        record.borrow_mut().closed.push(id);
                        invocation.return_value(None);
                    }
                    "GetCapabilities" => {
                        let caps = vec!["body".to_owned(), "actions".to_owned()];
                        invocation.return_value(Some(&(caps,).to_variant()));
                    }
                    _ => invocation
                        .return_value(Some(&("fake", "tcp-chat tests", "1", "1.2").to_variant())),
                }
            }
        };
        connection
            .register_object("/org/freedesktop/Notifications", &interface)
            .method_call(on_call)
            .build()
            .expect("the object registers");
        own(&connection, "org.freedesktop.Notifications");
        let launcher = {
            let record = record.clone();
            connection.subscribe_to_signal(
                None,
                Some("com.canonical.Unity.LauncherEntry"),
                Some("Update"),
                None,
                None,
                gio::DBusSignalFlags::NONE,
                move |signal| {
                    let parameters = signal.parameters;
                    if parameters.type_().as_str() != "(sa{sv})" {
                        panic!("LauncherEntry.Update has the wrong signature: {parameters:?}");
                    }
                    let properties = glib::VariantDict::new(Some(&parameters.child_value(1)));
                    if let Some(count) = properties.lookup::<i64>("count").ok().flatten() {
                        record.borrow_mut().launcher_counts.push(count);
                    }
                },
            )
        };
        DesktopBus {
            connection,
            record,
            _launcher: launcher,
            screen_reader: Rc::new(std::cell::Cell::new(false)),
        }
    }

    /// Serves `org.a11y.Status` as the AT-SPI bus launcher would, no screen
    /// reader running. Only where GTK's accessibility is off (`GTK_A11Y=none`),
    /// or GTK would have started the real launcher under that name.
    pub fn serve_a11y_status(&self) {
        let node = gio::DBusNodeInfo::for_xml(A11Y_STATUS_XML).expect("valid introspection");
        let interface = node
            .lookup_interface("org.a11y.Status")
            .expect("the interface");
        let screen_reader = self.screen_reader.clone();
        self.connection
            .register_object("/org/a11y/bus", &interface)
            .property(move |_, _, _, _, property| match property {
                "ScreenReaderEnabled" => screen_reader.get().to_variant(),
                _ => true.to_variant(),
            })
            .build()
            .expect("the object registers");
        own(&self.connection, "org.a11y.Bus");
    }

    /// A screen reader starts or stops, as the launcher announces it.
    pub fn set_screen_reader(&self, running: bool) {
        self.screen_reader.set(running);
        let changed = glib::VariantDict::new(None);
        changed.insert("ScreenReaderEnabled", running);
        self.connection
            .emit_signal(
                None,
                "/org/a11y/bus",
                "org.freedesktop.DBus.Properties",
                "PropertiesChanged",
                Some(&glib::Variant::tuple_from_iter([
                    "org.a11y.Status".to_variant(),
                    changed.end(),
                    Vec::<String>::new().to_variant(),
                ])),
            )
            .expect("the signal goes out");
    }
}

impl DesktopBus {
    /// The person clicks notification `id`.
    pub fn click(&self, id: u32) {
        self.connection
            .emit_signal(
                None,
                "/org/freedesktop/Notifications",
                "org.freedesktop.Notifications",
                "ActionInvoked",
                Some(&(id, "default").to_variant()),
            )
            .expect("the signal goes out");
    }

    /// Returns once `app` has had every reply the fake server sent it so
    /// far: a call of its own to the server, answered after them on the
    /// same connections, comes back last. (GLib withdraws a notification
    /// only once the reply to its Notify, with the server's id, is in.)
    pub fn replies_reached(&self, app: &gtk::Application) {
        let connection = app.dbus_connection().expect("the app is on the bus");
        let answered = Rc::new(std::cell::Cell::new(false));
        connection.call(
            Some("org.freedesktop.Notifications"),
            "/org/freedesktop/Notifications",
            "org.freedesktop.Notifications",
            "GetServerInformation",
            None,
            None,
            gio::DBusCallFlags::NONE,
            -1,
            None::<&gio::Cancellable>,
            {
                let answered = answered.clone();
                move |reply| {
                    reply.expect("the fake server answers");
                    answered.set(true);
                }
            },
        );
        super::fake_network::wait_until("the app's own call to come back", || answered.get());
    }

    pub fn shown(&self) -> Vec<Shown> {
        self.record.borrow().shown.clone()
    }

    pub fn closed(&self) -> Vec<u32> {
        self.record.borrow().closed.clone()
    }

    pub fn launcher_count(&self) -> Option<i64> {
        self.record.borrow().launcher_counts.last().copied()
    }
}

/// Takes `name` on the bus for `connection`, or fails the test.
fn own(connection: &gio::DBusConnection, name: &str) {
    let reply = connection
        .call_sync(
            Some("org.freedesktop.DBus"),
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus",
            "RequestName",
            Some(&(name, 4_u32).to_variant()),
            None,
            gio::DBusCallFlags::NONE,
            5000,
            None::<&gio::Cancellable>,
        )
        .expect("RequestName answers");
    assert_eq!(reply.get::<(u32,)>(), Some((1,)), "we own {name}");
}
