// Clang's thread-safety annotations (-Wthread-safety, on in every clang build): they let
// the compiler check that state marked GUARDED_BY(mu) is touched only with mu held. Under
// other compilers they expand to nothing. Use them with thunder::Mutex (core/mutex.h);
// std::mutex carries no annotations in libstdc++.
#pragma once

#if defined(__clang__)
#define THUNDER_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define THUNDER_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) THUNDER_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY THUNDER_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) THUNDER_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) THUNDER_THREAD_ANNOTATION(pt_guarded_by(x))
#define REQUIRES(...) THUNDER_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define ACQUIRE(...) THUNDER_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) THUNDER_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) THUNDER_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) THUNDER_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
#define RELEASE_GENERIC(...) THUNDER_THREAD_ANNOTATION(release_generic_capability(__VA_ARGS__))
#define EXCLUDES(...) THUNDER_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define NO_THREAD_SAFETY_ANALYSIS THUNDER_THREAD_ANNOTATION(no_thread_safety_analysis)
