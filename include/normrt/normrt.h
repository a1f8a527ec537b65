// Umbrella header for the normrt library.
#pragma once
#include "normrt/error.h"
#include "normrt/normrt_c.h"
#include "normrt/quantize.h"
#include "normrt/session.h"
#include "normrt/tensor.h"
#include "normrt/tensor_file.h"
#include "normrt/value.h"
