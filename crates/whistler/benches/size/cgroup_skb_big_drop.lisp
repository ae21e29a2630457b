;; A cgroup ingress policy: packets over 60 bytes are refused, their bytes counted.
(defmap refused-bytes :type :array :key-size 4 :value-size 8 :max-entries 1)
(defprog refuse-big (:type :cgroup-skb :section "cgroup_skb/ingress" :license "GPL")
  (let ((length (ctx len)))
    (when (> length 60)
      (incf (getmap refused-bytes 0) length)
      (return 0)))
  1)
