;; test: prog=egress expect=1
;; cgroup_skb programs return 1 to allow
(defmap n :type :array :key-size 4 :value-size 8 :max-entries 1)
(defprog egress (:type :cgroup-skb :section "cgroup_skb/egress")
  (incf (getmap n 0))
  1)
