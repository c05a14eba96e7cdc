//! The client session: connects to a host (ours or any IRC server),
//! registers, joins the room and turns IRC traffic into typed events. GTK-free.
