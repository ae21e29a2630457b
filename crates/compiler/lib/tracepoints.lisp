;;;; `deftracepoint`: accessor macros for a kernel tracepoint's fields, generated from its
;;;; tracefs format file (`events/CATEGORY/EVENT/format`).
;;;;
;;;; The compiler does no I/O, so the format text comes from a host function the embedding
;;;; program defines: (%tracepoint-format "CATEGORY" "EVENT") returning the file's text (the CLI
;;;; or a session reads /sys/kernel/tracing). Without it, `deftracepoint` reports what is missing.
;;;; Everything else, parsing included, is here.
;;;;
;;;; Through BTF where the kernel has it: when the kernel's BTF describes the event's record as
;;;; `struct trace_event_raw_EVENT` (the host function %tracepoint-record, which the bpftrace
;;;; front end's `args` shares), a field found there is read with `ctx-load-member`: one load from
;;;; the context at the running kernel's offset and width (CO-RE relocations on the load itself,
;;;; and on the shifts that sign-extend a signed field), so a record laid out differently on
;;;; another kernel reads right. Events without their own struct (those sharing a class's, the
;;;; syscall events), fields it lacks or describes as bitfields, and builds without BTF use the
;;;; format file's offsets. Without a format file, the BTF struct alone gives the fields.

(defun %underscores (name)
  "NAME (a string) with every `-` replaced by `_`."
  (map 'string (lambda (c) (if (char= c #\-) #\_ c)) name))

(defun %hyphens (name)
  "NAME (a string) with every `_` replaced by `-`."
  (map 'string (lambda (c) (if (char= c #\_) #\- c)) name))

(defun %lines (text)
  "The lines of TEXT, without their newlines."
  (let ((lines '())
        (start 0)
        (end nil))
    (loop
      (setq end (position #\Newline text :start start))
      (push (subseq text start (or end (length text))) lines)
      (if end
          (setq start (1+ end))
          (return (nreverse lines))))))

(defun %format-number (line key)
  "The integer after KEY (e.g. \"offset:\") in LINE, or NIL."
  (let ((at (search key line)))
    (and at (parse-integer (subseq line (+ at (length key))) :junk-allowed t))))

(defun %format-field (line)
  "One `field:` line of a format file as (NAME OFFSET SIZE SIGNED ARRAY-P), NAME a string with
`_`, or NIL for other lines."
  (let ((at (search "field:" line)))
    (when at
      (let* ((end (position #\; line :start at))
             (decl (string-trim " " (subseq line (+ at 6) end)))
             (space (position #\Space decl :from-end t))
             (word (if space (subseq decl (1+ space)) decl))
             (bracket (position #\[ word)))
        (list (if bracket (subseq word 0 bracket) word)
              (%format-number line "offset:")
              (%format-number line "size:")
              (eql (%format-number line "signed:") 1)
              (and bracket t))))))

(defun %parse-tracepoint-format (text)
  "The fields of a tracefs format TEXT, without the `common_` ones, in order."
  (remove-if (lambda (field)
               (or (null field)
                   (let ((name (first field)))
                     (and (>= (length name) 7) (string= (subseq name 0 7) "common_")))))
             (mapcar #'%format-field (%lines text))))

(defun %scalar-type (size signed)
  "The load type of a SIZE-byte field (NIL when SIZE is not 1, 2, 4 or 8)."
  (let ((bits (case size (1 "8") (2 "16") (4 "32") (8 "64") (t nil))))
    (and bits (intern (format nil "~a~a" (if signed "i" "u") bits)))))

(defun %tracepoint-field-macros (field)
  "`tp-NAME` (the field's value) and, for arrays, `tp-NAME-ptr` (its address) of one FIELD."
  (destructuring-bind (name offset size signed array-p) field
    (let ((type (%scalar-type size signed))
          (lisp-name (%hyphens name)))
      (append
       (when type
         (list `(defmacro ,(%symbolicate "tp-" lisp-name) ()
                  ,(format nil "The tracepoint field `~a`: ~a at byte ~d of the context."
                           name (string-downcase (symbol-name type)) offset)
                  '(ctx-load ,type ,offset))))
       (when (or array-p (null type))
         (list `(defmacro ,(%symbolicate "tp-" lisp-name "-ptr") ()
                  ,(format nil "The address of the tracepoint field `~a` (~d bytes at byte ~d)."
                           name size offset)
                  '(+ (ctx-ptr) ,offset))))))))

(defun %select-fields (fields wanted where)
  "The FIELDS named in WANTED (symbols, `-` or `_`), all of them when WANTED is empty."
  (if (null wanted)
      fields
      (mapcar (lambda (want)
                (let ((name (%underscores (string-downcase (symbol-name want)))))
                  (or (find name fields :key #'first :test #'string=)
                      (error "deftracepoint ~a: no field ~a; the fields are ~{~a~^ ~}"
                             where (%hyphens name) (mapcar (lambda (f) (%hyphens (first f))) fields)))))
              wanted)))

(defun %tracepoint-btf-layout (event)
  "The kernel's record of EVENT (`struct trace_event_raw_EVENT`) as (STRUCT-TYPE ((FIELD . MEMBER)
...)), each FIELD by the format file's name, or NIL when there is no BTF reader, the BTF cannot
be read or the event has no struct of its own (the host function %tracepoint-record)."
  (when (fboundp '%tracepoint-record)
    (handler-case (funcall '%tracepoint-record event)
      (error () nil))))

(defun %tracepoint-btf-member (name layout)
  "The member of LAYOUT holding the format file's field NAME."
  (cdr (assoc name (second layout) :test #'string=)))

(defun %btf-tracepoint-fields (layout)
  "The fields of a tracepoint record described by LAYOUT alone, as the format file would list
them. Only names count: every one is found in LAYOUT again."
  (mapcar (lambda (field) (list (car field) nil nil nil nil)) (second layout)))

(defun %tracepoint-btf-macros (field layout event)
  "`tp-NAME` or `tp-NAME-ptr` of FIELD read through the BTF member of LAYOUT that holds it, at
the running kernel's offset (CO-RE); NIL when LAYOUT lacks it or has it as a bitfield."
  (let ((member (and layout (%tracepoint-btf-member (first field) layout)))
        (lisp-name (%hyphens (first field))))
    (when member
      (destructuring-bind (c-name offset access type btf-type) member
        (let ((relocated `(kernel-field-offset ,(first layout) ,c-name ,offset ,btf-type)))
          (case access
            (:value
             (list `(defmacro ,(%symbolicate "tp-" lisp-name) ()
                      ,(format nil "The tracepoint field `~a`: ~(~a~), read at its offset in the running kernel's struct trace_event_raw_~a (byte ~d here)."
                               (first field) type event offset)
                      '(ctx-load-member ,@(rest relocated)))))
            (:address
             (list `(defmacro ,(%symbolicate "tp-" lisp-name "-ptr") ()
                      ,(format nil "The address of the tracepoint field `~a`, at its offset in the running kernel's struct trace_event_raw_~a (byte ~d here)."
                               (first field) event offset)
                      '(+ (ctx-ptr) ,relocated))))
            (t nil)))))))

(defmacro deftracepoint (name &rest fields)
  "(deftracepoint CATEGORY/EVENT [FIELD...])
Defines (tp-FIELD), the field's value, for each FIELD named (all but the common_ ones when
none is), and (tp-FIELD-ptr), the field's address, for arrays and fields of other sizes. A field
the kernel's BTF describes in `struct trace_event_raw_EVENT` is read at the running kernel's
offset and width (CO-RE); others with `ctx-load` at the offset, size and signedness of the
format file. Hyphens in names stand for the kernel's underscores."
  (let* ((where (string-downcase (symbol-name name)))
         (slash (position #\/ where)))
    (unless slash
      (error "deftracepoint: expected CATEGORY/EVENT (e.g. sched/sched-process-fork), found ~a"
             where))
    (unless (fboundp '%tracepoint-format)
      (error "deftracepoint ~a: this compiler has no tracepoint format reader (the host function %tracepoint-format)"
             where))
    (let* ((event (%underscores (subseq where (1+ slash))))
           (layout (%tracepoint-btf-layout event))
           (category (%underscores (subseq where 0 slash)))
           (all (if layout
                    (handler-case
                        (%parse-tracepoint-format (funcall '%tracepoint-format category event))
                      (error () (%btf-tracepoint-fields layout)))
                    (%parse-tracepoint-format (funcall '%tracepoint-format category event)))))
      `(progn ,@(mapcan (lambda (field)
                          (or (%tracepoint-btf-macros field layout event)
                              (%tracepoint-field-macros field)))
                        (%select-fields all fields where))))))
