/* demo_driver.c — runs the generated jet_tagger C model on text events from
 * stdin (16 numbers per line) and writes the outputs as raw doubles. */
#include <stdio.h>

#include "jet_tagger.h"

int main(void)
{
    double in[jet_tagger_N_IN], out[jet_tagger_N_OUT];
    for (;;) {
        for (int k = 0; k < jet_tagger_N_IN; k++)
            if (scanf("%lf", &in[k]) != 1)
                return 0;
        jet_tagger_predict(in, out);
        fwrite(out, sizeof(double), jet_tagger_N_OUT, stdout);
    }
}
