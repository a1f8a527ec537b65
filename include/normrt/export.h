// NORMRT_API marks what libnormrt.so exports: the library is built with
// hidden visibility, so only the declarations in include/normrt/ that carry
// this mark are reachable from outside it (nm -D shows nothing else).
// Plain preprocessor: the C API header uses it too.
#pragma once

#if defined(__GNUC__) || defined(__clang__)
#define NORMRT_API __attribute__((visibility("default")))
#else
#define NORMRT_API
#endif
