;;; Counts calls of a user-space function with a uprobe, per process, once a second.
;;;   whistler run uprobe-count.lisp [-- BINARY SYMBOL SECONDS]
;;; By default: getpid in the C library, for five seconds.

(defparameter *binary* (or (first *args*) "/lib/x86_64-linux-gnu/libc.so.6"))
(defparameter *symbol* (or (second *args*) "getpid"))
(defparameter *seconds* (if (third *args*) (parse-integer (third *args*)) 5))

(with-bpf-session ()
  (bpf:map calls :type :hash :key-size 4 :value-size 8 :max-entries 1024)

  (bpf:prog count-calls (:type :kprobe :section "uprobe" :license "GPL")
    (incf (getmap calls (cast u32 (ash (get-current-pid-tgid) -32))))
    0)

  (bpf:attach count-calls *binary* *symbol*)
  (format t "counting calls of ~a in ~a~%" *symbol* *binary*)

  (loop repeat *seconds*
        do (sleep 1)
           (let ((key nil))
             (loop
               (setf key (map-get-next-key-int calls key))
               (unless key (return))
               (format t "pid ~d: ~d calls~%" key (bpf:map-ref calls key))))))
