#ifndef GRIDCARBON_CZSTD_SHIM_H
#define GRIDCARBON_CZSTD_SHIM_H
#include <zstd.h>
#include <zstd_errors.h>
#endif
