;; Sends connections to 10.0.0.1:53 to a local resolver at 127.0.0.53 (a connect4 hook).
(defprog local-dns (:type :cgroup-sock-addr :section "cgroup/connect4" :license "GPL")
  (when (and (= (ctx user-ip4) (htonl #x0a000001))
             (= (ctx user-port) (htons 53)))
    (setf (ctx user-ip4) (htonl #x7f000035)))
  1)
