/*
 * server.h - yimad, the network service of spec section 6 (verifier/server*.c).
 */
#ifndef YIMA_SERVER_H
#define YIMA_SERVER_H

/* Parse the command line, run until SIGTERM/SIGINT; returns the exit code. */
int server_main(int argc, char **argv);

#endif
