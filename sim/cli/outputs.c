/* sim/cli/outputs.c - a verb never writes over one of its own inputs (issue 13, D2). */
#include "sim/cli/cli_int.h"
#include "sim/error.h"
#include "sim/outfile.h"

#include <dirent.h>
#include <string.h>

int cli_refuse_input_as_output(const char *verb, const char *opt, const char *output,
                               const char *const *inputs, size_t n_inputs, const char *input_dir,
                               FILE *err)
{
    if (output == NULL)
        return SIM_EXIT_OK;
    for (size_t i = 0; i < n_inputs; i++) {
        if (inputs[i] != NULL && outfile_same(output, inputs[i])) {
            fprintf(err,
                    "dfusim %s: %s %s: refusing to write there: it is the input %s (the same "
                    "file%s); choose another file\n",
                    verb, opt, output, inputs[i],
                    strcmp(output, inputs[i]) == 0 ? "" : ", through a link");
            return SIM_EXIT_USAGE;
        }
    }
    if (input_dir == NULL)
        return SIM_EXIT_OK;
    if (outfile_same(output, input_dir)) {
        fprintf(err, "dfusim %s: %s %s: refusing to write there: it is the folder %s\n", verb, opt,
                output, input_dir);
        return SIM_EXIT_USAGE;
    }
    DIR *d = opendir(input_dir);
    if (d == NULL)
        return SIM_EXIT_OK; /* the verb reports a missing folder itself */
    struct dirent *e;
    char path[OUTFILE_PATH_MAX];
    int code = SIM_EXIT_OK;
    while (code == SIM_EXIT_OK && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (snprintf(path, sizeof(path), "%s/%s", input_dir, e->d_name) >= (int)sizeof(path))
            continue;
        if (outfile_same(output, path)) {
            fprintf(err, "dfusim %s: %s %s: refusing to write there: it is the input %s\n", verb,
                    opt, output, path);
            code = SIM_EXIT_USAGE;
        }
    }
    closedir(d);
    return code;
}
