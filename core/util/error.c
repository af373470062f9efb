/* SPDX-License-Identifier: Apache-2.0 */
/* Names and sentences for the error enum of include/ganglion/error.h. */
#include "ganglion/error.h"

const char *gn_strerror(int err)
{
    switch (err) {
#define GN__ERR_STR(name, value, sentence)                                                         \
    case value:                                                                                    \
        return sentence;
        GN_ERRNO_MAP(GN__ERR_STR)
#undef GN__ERR_STR
    case 0:
        return "success";
    default:
        return "unknown error";
    }
}

const char *gn_err_name(int err)
{
    switch (err) {
#define GN__ERR_NAME(name, value, sentence)                                                        \
    case value:                                                                                    \
        return #name;
        GN_ERRNO_MAP(GN__ERR_NAME)
#undef GN__ERR_NAME
    case 0:
        return "OK";
    default:
        return "EUNKNOWN";
    }
}
