/*
 * notify.h - telling the service manager how yimad is (systemd's
 * Type=notify, sd_notify(3)): ready once it listens, stopping when it
 * drains.  Without a manager (no $NOTIFY_SOCKET) each call does nothing.
 */
#ifndef YIMA_SERVER_NOTIFY_H
#define YIMA_SERVER_NOTIFY_H

#include "server_int.h"

/* Every listener is up: READY=1 and a STATUS= line naming the ledger
 * and the addresses.  Called once, after setup, before serving. */
void server_notify_ready(const server_opts_t *o, int threads);

/* SIGTERM/SIGINT started a drain: STOPPING=1. */
void server_notify_stopping(void);

#endif
