#ifndef GRIDCARBON_CNATS_SHIM_H
#define GRIDCARBON_CNATS_SHIM_H
#include <nats/nats.h>
#endif
