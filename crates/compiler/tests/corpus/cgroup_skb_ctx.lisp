;; test: prog=ingress data=000000000000000000000000080045000028000000004006000000000000000000000000000000000000000000000000000000000000 expect=1
;; map: lens key=00000000 value=2800000000000000
;; cgroup_skb reads __sk_buff fields and packet bytes (the IP header)
(defmap lens :type :array :key-size 4 :value-size 8 :max-entries 1)
(defprog ingress (:type :cgroup-skb :section "cgroup_skb/ingress")
  (let ((data (ctx data)) (data-end (ctx data-end)))
    (when (> (+ data 20) data-end) (return 1))
    (setf (getmap lens 0) (ntohs (load u16 data 2)))
    1))
