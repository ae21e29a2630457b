;;; Foreign calls made through libffi's ffi_call, counted per process by the call interface's
;;; argument count, in the spirit of Whistler's ffi-call tracker: a uprobe on ffi_call reads
;;; the ffi_cif its caller passes (user memory), and the session runs a Python ctypes workload,
;;; whose foreign calls all go through ffi_call, then reports what that process called.
;; run:
;; expect: calls with 0 arguments: T
;; expect: calls with 1 argument: T
;; expect: calls with 3 arguments: T
;; expect: return type of every call: sint32

(asdf:load-system "whistler/loader")
(in-package #:whistler-loader-user)

;; libffi's ffi_cif and ffi_type (x86-64 layout).
(whistler:defstruct ffi-cif
  (abi u32) (nargs u32) (arg-types u64) (rtype u64))
(whistler:defstruct ffi-type
  (size u64) (alignment u16) (type-code u16))

(defconstant +ffi-type-sint32+ 10)

(defparameter *workload*
  "import ctypes
libc = ctypes.CDLL(None)
for i in range(50): libc.getpid()
for i in range(30): libc.abs(-i)
for i in range(20): libc.memcmp(b'ab', b'ab', 2)")

(with-bpf-session ()
  ;; key: pid (high 32 bits), argument count (bits 16-31), return type code (low 16 bits)
  (bpf:map calls :type :hash :key-size 8 :value-size 8 :max-entries 4096)

  (bpf:prog on-ffi-call (:type :kprobe :section "uprobe" :license "GPL")
    (let ((cif (make-ffi-cif))
          (rtype (make-ffi-type)))
      (probe-read-user cif (sizeof ffi-cif) (pt-regs-parm1))
      (probe-read-user rtype (sizeof ffi-type) (ffi-cif-rtype cif))
      (incf (getmap calls (logior (ash (ash (get-current-pid-tgid) -32) 32)
                                  (ash (ffi-cif-nargs cif) 16)
                                  (ffi-type-type-code rtype)))))
    0)

  (bpf:attach on-ffi-call "/lib/x86_64-linux-gnu/libffi.so.8" "ffi_call")

  (let* ((python (sb-ext:run-program "/usr/bin/python3" (list "-c" *workload*) :output nil))
         (pid (sb-ext:process-pid python))
         (by-nargs (make-hash-table))
         (return-types '()))
    (dolist (key (map-keys calls))
      (when (= (ash key -32) pid)
        (incf (gethash (ldb (byte 16 16) key) by-nargs 0) (bpf:map-ref calls key))
        (pushnew (ldb (byte 16 0) key) return-types)))
    (loop for (nargs at-least) in '((0 50) (1 30) (3 20))
          do (format t "calls with ~d argument~:p: ~a~%"
                     nargs (>= (gethash nargs by-nargs 0) at-least)))
    (format t "return type of every call: ~a~%"
            (if (equal return-types (list +ffi-type-sint32+)) "sint32" return-types))))
