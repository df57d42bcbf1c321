/*
 * yimad.c - the settle-by-code service: a main() over server.h.
 */
#include <stdio.h>
#include <string.h>

#include "yima/server/server.h"
#include "yima/util/version.h"

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("yimad %s\n", YIMA_VERSION);
		return 0;
	}
	return server_main(argc, argv);
}
