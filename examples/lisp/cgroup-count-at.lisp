;;; Counts the packets leaving one cgroup v2 directory, once a second.
;;;   whistler run cgroup-count-at.lisp -- /sys/fs/cgroup/unified/my-group [SECONDS]

(defparameter *cgroup* (or (first (uiop:command-line-arguments)) "/sys/fs/cgroup"))
(defparameter *seconds* (if (second *args*) (parse-integer (second *args*)) 10))

(with-bpf-session ()
  (bpf:map pkt-count :type :array :key-size 4 :value-size 8 :max-entries 1)

  (bpf:prog count-egress
      (:type :cgroup-skb :section "cgroup_skb/egress" :license "GPL")
    (incf (getmap pkt-count 0))
    1)

  (bpf:attach count-egress *cgroup*)
  (format t "counting egress packets of ~a~%" *cgroup*)

  (loop repeat *seconds*
        do (sleep 1)
           (format t "packets: ~d~%" (or (bpf:map-ref pkt-count 0) 0))))
