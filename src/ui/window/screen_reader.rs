//! Whether a screen reader runs: `ScreenReaderEnabled` of `org.a11y.Status`,
//! which the AT-SPI bus launcher (at-spi2-core) keeps on the session bus and
//! GNOME sets while Orca runs. The model then notifies for mentions and
//! private lines in the focused window too. No launcher, no bus: none runs.

use gtk::prelude::*;
use gtk::subclass::prelude::*;
use gtk::{gio, glib};

use super::TcpChatWindow;

const BUS_NAME: &str = "org.a11y.Bus";
const OBJECT_PATH: &str = "/org/a11y/bus";
const INTERFACE: &str = "org.a11y.Status";
const PROPERTY: &str = "ScreenReaderEnabled";

impl TcpChatWindow {
    /// Whether the window knows a screen reader runs.
    pub fn screen_reader_running(&self) -> bool {
        self.imp().room.read(|room| room.screen_reader())
    }

    /// Follows the property from now on, without starting the launcher
    /// (GTK starts it when accessibility is on).
    pub(super) fn follow_screen_reader(&self) {
        gio::DBusProxy::for_bus(
            gio::BusType::Session,
            gio::DBusProxyFlags::DO_NOT_AUTO_START,
            None,
            BUS_NAME,
            OBJECT_PATH,
            INTERFACE,
            None::<&gio::Cancellable>,
            glib::clone!(
                #[weak(rename_to = window)]
                self,
                move |proxy| {
                    let proxy = match proxy {
                        Ok(proxy) => proxy,
                        Err(err) => {
                            log::debug!("no screen reader status on the session bus: {err}");
                            return;
                        }
                    };
                    window.apply_screen_reader(&proxy);
                    // (`connect_g_properties_changed` wants a thread-safe
                    // handler; the window is not.)
                    proxy.connect_local(
                        "g-properties-changed",
                        false,
                        glib::clone!(
                            #[weak]
                            window,
                            #[upgrade_or]
                            None,
                            move |_| {
                                let proxy = window.imp().screen_reader_status.borrow().clone();
                                if let Some(proxy) = proxy {
                                    window.apply_screen_reader(&proxy);
                                }
                                None
                            }
                        ),
                    );
                    // The launcher may start after us: its properties load then.
                    proxy.connect_notify_local(
                        Some("g-name-owner"),
                        glib::clone!(
                            #[weak]
                            window,
                            move |proxy, _| window.apply_screen_reader(proxy)
                        ),
                    );
                    window.imp().screen_reader_status.replace(Some(proxy));
                }
            ),
        );
    }

    fn apply_screen_reader(&self, proxy: &gio::DBusProxy) {
        let running = proxy
            .cached_property(PROPERTY)
            .and_then(|value| value.get::<bool>())
            .unwrap_or(false);
        self.update(|room| {
            room.set_screen_reader(running);
            Vec::new()
        });
    }
}
