/*
 * notify.c - yimad's messages to the service manager (see notify.h).
 *
 * systemd starts dependent units (and `systemctl start` returns) only on
 * READY=1, so a client started after yimad finds it listening; STOPPING=1
 * tells it the drain has begun, so a stop waiting on TimeoutStopSec is not
 * mistaken for a hang.  sd_notify() is a no-op when $NOTIFY_SOCKET is not
 * set (yimad run by hand, by tests or by another supervisor), and a failed
 * message is not a reason to stop serving: its result is not checked.
 */
#include <stdio.h>

#include <systemd/sd-daemon.h>

#include "notify.h"

void server_notify_ready(const server_opts_t *o, int threads)
{
	char msg[1024];

	snprintf(msg, sizeof msg, "READY=1\nSTATUS=serving %s on %s%s%s, %d network thread(s)", o->db,
		 o->listen, o->public_listen ? ", public view on " : "",
		 o->public_listen ? o->public_listen : "", threads);
	(void)sd_notify(0, msg);
}

void server_notify_stopping(void)
{
	(void)sd_notify(0, "STOPPING=1\nSTATUS=draining the requests in flight");
}
