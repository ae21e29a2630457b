;;; The cgroup example of Whistler's "Inline BPF Sessions" chapter, as written there: count the
;;; packets leaving the cgroup v2 root, printing the count once a second for ten seconds.
;;; (On hosts where /sys/fs/cgroup is not cgroup v2 the attach fails and says where it is; see
;;; cgroup-count-at.lisp, which takes the cgroup directory as an argument.)

(with-bpf-session ()
  (bpf:map pkt-count :type :array :key-size 4 :value-size 8 :max-entries 1)

  (bpf:prog count-egress
      (:type :cgroup-skb :section "cgroup_skb/egress" :license "GPL")
    (incf (getmap pkt-count 0))
    1)

  (bpf:attach count-egress "/sys/fs/cgroup")

  (loop repeat 10
        do (sleep 1)
           (format t "packets: ~d~%" (or (bpf:map-ref pkt-count 0) 0))))
