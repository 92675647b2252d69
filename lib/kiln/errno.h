// Linux errno values (asm-generic/errno-base.h numbering). The kernel speaks
// these at the syscall boundary, so they are the error type everywhere. The
// names carry a k prefix so that hosted code may include <errno.h>, whose
// macros would otherwise replace them.
#pragma once

namespace kiln {

enum class Errno : int {
    kEPERM = 1,
    kENOENT = 2,
    kEIO = 5,
    kE2BIG = 7,
    kENOEXEC = 8,
    kEBADF = 9,
    kEAGAIN = 11,
    kENOMEM = 12,
    kEFAULT = 14,
    kEBUSY = 16,
    kEEXIST = 17,
    kENODEV = 19,
    kENOTDIR = 20,
    kEISDIR = 21,
    kEINVAL = 22,
    kENOSPC = 28,
    kERANGE = 34,
    kENOSYS = 38,
    kELOOP = 40,
    kEOVERFLOW = 75,
};

const char* errno_name(Errno e);

}  // namespace kiln
