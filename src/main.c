/*
 * main.c - entry point; hands over to the CLI, which alone decides exit codes.
 */
#include "cli/cli.h"

int main(int argc, char **argv)
{
    return cli_main(argc, argv);
}
