#include "CMallocTuning.h"
#include <stdlib.h>   /* defines __GLIBC__ on glibc */
#if defined(__GLIBC__)
#include <malloc.h>
#endif

int gc_malloc_tune(void) {
#if defined(__GLIBC__)
    // Fixed thresholds also switch off glibc's dynamic mmap threshold, which otherwise grows after
    // the first large free and keeps later large buffers on the heap.
    return mallopt(M_MMAP_THRESHOLD, 1 << 20) && mallopt(M_TRIM_THRESHOLD, 1 << 20);
#else
    return 0;
#endif
}
