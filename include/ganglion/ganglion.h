/* SPDX-License-Identifier: Apache-2.0 */
/* The public API of the Ganglion core: the only core headers an adapter includes. */
#ifndef GANGLION_H
#define GANGLION_H

#include "acl.h"
#include "adapter.h"
#include "broker.h"
#include "bytes.h"
#include "error.h"
#include "logger.h"
#include "partition.h"
#include "record.h"
#include "topic.h"

#endif
