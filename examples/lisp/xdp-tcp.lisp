;;; Counts TCP packets arriving on an interface, by destination port, with XDP and the
;;; `with-tcp` packet macro; prints the counts once a second.
;;;   whistler run xdp-tcp.lisp -- INTERFACE [SECONDS]

(defparameter *interface* (or (first *args*) "lo"))
(defparameter *seconds* (if (second *args*) (parse-integer (second *args*)) 10))

(with-bpf-session ()
  (bpf:map tcp-ports :type :hash :key-size 4 :value-size 8 :max-entries 1024)

  (bpf:prog count-tcp (:type :xdp :section "xdp" :license "GPL")
    (let ((data (xdp-data)) (data-end (xdp-data-end)))
      (with-tcp (data data-end tcp)
        (incf (getmap tcp-ports (cast u32 (tcp-dst-port tcp))))))
    XDP_PASS)

  (bpf:attach count-tcp *interface*)
  (format t "counting TCP packets on ~a~%" *interface*)

  (loop repeat *seconds*
        do (sleep 1)
           (dolist (port (sort (map-keys tcp-ports) #'<))
             (format t "port ~d: ~d packets~%" port (bpf:map-ref tcp-ports port)))))
