/* sim/cli/main.c - the dfusim executable. */
#include "sim/cli/cli.h"

int main(int argc, char **argv)
{
    return cli_main(argc, argv, stdout, stderr);
}
