/*
 * memory.c: this process's memory from /proc/self/statm (memory.h).
 * statm counts pages; the page size is the system's.
 */
#include "memory.h"

#include <stdio.h>
#include <unistd.h>

int wsl_memory_self(wsl_memory *m)
{
    long long pages = 0, resident = 0;
    long page = sysconf(_SC_PAGESIZE);
    FILE *f = fopen("/proc/self/statm", "r");
    int ok = 0;

    if (f) {
        ok = fscanf(f, "%lld %lld", &pages, &resident) == 2 && page > 0;
        fclose(f);
    }
    m->size = ok ? pages * page : 0;
    m->resident = ok ? resident * page : 0;
    return ok ? 0 : -1;
}
