/*
 * memory.h: this process's memory as Linux counts it, from
 * /proc/self/statm: its address space and its resident set, in bytes.
 * One reader for the three that need it (the interpreter's start-up log
 * line, a daemon's memory-limit= and virtual-memory-limit=, and
 * process_metrics()'s memory_rss).  Plain C: no APR, no Apache, no
 * Python.
 */
#ifndef WSL_COMMON_MEMORY_H
#define WSL_COMMON_MEMORY_H

typedef struct {
    long long size;             /* address space (statm's first field) */
    long long resident;         /* resident set (its second) */
} wsl_memory;

/* 0, or -1 with both figures 0 where it cannot be read (no /proc). */
int wsl_memory_self(wsl_memory *m);

#endif /* WSL_COMMON_MEMORY_H */
