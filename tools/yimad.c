/*
 * yimad.c - the settle-by-code service: a main() over server.h.
 */
#include "yima/server/server.h"

int main(int argc, char **argv)
{
	return server_main(argc, argv);
}
