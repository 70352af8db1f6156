"""Interface text in English and Chinese, one table, consistent terms.

Terms: reader 阅读器 · render 渲染 · page image 页面图像 · visual tokens 视觉 token ·
compression ratio 压缩率 · evidence 证据 · needs review 需人工确认 · run now 网页推理 ·
queue 异步队列 · QA 问答 · summary 摘要 · key information 关键信息抽取 · thinking 思考过程.
"""

from __future__ import annotations

LANGS = ("en", "zh")

TEXTS: dict[str, dict[str, str]] = {
    "title": {
        "en": "Glyph-视觉推理 · ask questions about long documents",
        "zh": "Glyph-视觉推理 · 长文档视觉问答",
    },
    "subtitle": {
        "en": "Your document is typeset into dense page images; the reader looks at the images "
        "and answers, outlining its evidence in red.",
        "zh": "文档被排版成高密度的页面图像，阅读器读取图像作答，并用红框标出依据。",
    },
    "language": {"en": "Language / 语言", "zh": "语言 / Language"},
    # left pane
    "input": {"en": "1 · Document", "zh": "1 · 文档"},
    "upload": {
        "en": "Upload documents: one or several (PDF, DOCX, TXT, Markdown, code, HTML) or a ZIP",
        "zh": "上传文档：一个或多个（PDF、DOCX、TXT、Markdown、代码、HTML）或 ZIP 压缩包",
    },
    "paste": {"en": "…or paste text", "zh": "……或粘贴文本"},
    "paste_placeholder": {
        "en": "Paste up to 100,000 characters here",
        "zh": "在此粘贴文本（最多 100,000 字符）",
    },
    "use_paste": {"en": "Use pasted text", "zh": "使用粘贴的文本"},
    "password": {"en": "PDF password", "zh": "PDF 密码"},
    "unlock": {"en": "Open with password", "zh": "输入密码打开"},
    "examples": {"en": "Example documents", "zh": "示例文档"},
    "advanced": {"en": "Advanced render settings", "zh": "高级渲染设置"},
    "preset": {"en": "Preset", "zh": "预设"},
    "granularity": {"en": "Granularity", "zh": "粒度"},
    "font_size": {"en": "Font size (pt)", "zh": "字号（pt）"},
    "line_height": {"en": "Line height (pt)", "zh": "行高（pt）"},
    "dpi": {"en": "Resolution (dpi)", "zh": "分辨率（dpi）"},
    "margin": {"en": "Margins (pt)", "zh": "页边距（pt）"},
    "newline_marker": {"en": "Show newline markers", "zh": "显示换行标记"},
    "header_footer": {"en": "Header/footer with page numbers", "zh": "页眉页脚（含页码）"},
    "position_marks": {"en": "Light line numbers", "zh": "浅色行号"},
    "document_info": {"en": "Document", "zh": "文档信息"},
    "doc_chars": {"en": "{chars:,} chars", "zh": "{chars:,} 字符"},
    "doc_source_pages": {"en": "{pages} source pages", "zh": "原文 {pages} 页"},
    # middle pane
    "preview": {"en": "2 · Render preview", "zh": "2 · 渲染预览"},
    "pages": {"en": "Rendered pages", "zh": "渲染页面"},
    "rerender_hi": {"en": "Re-render at higher resolution", "zh": "以更高分辨率重新渲染"},
    # the statistics line in plain words; the technical figures are its hover text
    "stats_line": {"en": "{source} → {images} · {gain}", "zh": "{source} → {images} · {gain}"},
    "stats_pages": {"en": "**{n}** pages", "zh": "**{n}** 页"},
    "stats_page": {"en": "**1** page", "zh": "**1** 页"},
    "stats_chars": {"en": "**{n:,}** characters", "zh": "**{n:,}** 字"},
    "stats_images": {"en": "**{n}** page images", "zh": "**{n}** 张页面图像"},
    "stats_image": {"en": "**1** page image", "zh": "**1** 张页面图像"},
    "stats_fewer": {
        "en": "**{ratio:.1f}×** fewer tokens than the plain text",
        "zh": "token 压缩约 **{ratio:.1f}** 倍",
    },
    "stats_more": {
        "en": "**{ratio:.1f}×** more tokens than the plain text",
        "zh": "token 为纯文本的 **{ratio:.1f}** 倍",
    },
    "stats_same": {
        "en": "about as many tokens as the plain text",
        "zh": "token 与纯文本相当",
    },
    "stats_detail": {
        "en": "Text ≈ {text_tokens:,} tokens; page images: {visual_tokens:,} visual tokens "
        "(compression {ratio:.2f}×). Preset {preset}, {dpi} dpi, font {font:g} pt. A token is "
        "the unit a language model reads, about three quarters of an English word.",
        "zh": "文本约 {text_tokens:,} token；页面图像：{visual_tokens:,} 视觉 token"
        "（压缩率 {ratio:.2f}×）。预设 {preset}，{dpi} dpi，字号 {font:g} pt。"
        "token 是语言模型读取文字的单位，约合一个汉字。",
    },
    "preview_first": {"en": "preview: first {pages}", "zh": "预览前 {pages} 页"},
    "no_document": {
        "en": "Upload or paste a document to see its pages.",
        "zh": "请上传或粘贴文档以查看渲染页面。",
    },
    # right pane
    "reasoning": {"en": "3 · Ask", "zh": "3 · 推理"},
    "reader_ocr_active": {
        "en": "Reader: built-in OCR reader (CPU)",
        "zh": "阅读器：内置 OCR 阅读器（CPU）",
    },
    "reader_no_model": {"en": " — no model configured", "zh": "——未配置模型"},
    "reader_active": {"en": "Reader: {desc}", "zh": "阅读器：{desc}"},
    "mode": {"en": "Task", "zh": "任务"},
    "mode_qa": {"en": "Question answering", "zh": "问答"},
    "mode_summary": {"en": "Summary", "zh": "摘要"},
    "mode_extract": {"en": "Key information", "zh": "关键信息抽取"},
    "question": {"en": "Question", "zh": "问题"},
    "question_placeholder": {
        "en": "e.g. What is the annual subscription fee?",
        "zh": "例如：公司 2024 年营业收入是多少？",
    },
    "ask": {"en": "Ask", "zh": "提问"},
    "compute": {"en": "Compute", "zh": "计算方式"},
    "run_now": {"en": "Run now (网页推理)", "zh": "网页推理"},
    "queue": {"en": "Queue (异步队列)", "zh": "异步队列"},
    "answer": {"en": "Answer", "zh": "答案"},
    "thinking": {"en": "Thinking", "zh": "思考过程"},
    "confidence": {"en": "Confidence: **{value}**", "zh": "置信度：**{value}**"},
    "needs_review": {"en": "⚠ needs review (需人工确认)", "zh": "⚠ 需人工确认"},
    "evidence": {"en": "What the model read", "zh": "模型读到的页面"},
    "evidence_pages": {"en": "Cited places", "zh": "引用位置"},
    "evidence_item": {"en": "page {page}", "zh": "第 {page} 页"},
    "evidence_passage": {"en": "passage {n}", "zh": "第 {n} 处"},
    "evidence_closest": {"en": "closest passage, not an answer", "zh": "最接近的段落，并非答案"},
    # a cited place's own figure: the answer's confidence times how well this place matches it
    # (one number beside "Confidence: 95 %" read as a second, different confidence)
    "evidence_support": {"en": "support {value}", "zh": "支持度 {value}"},
    "evidence_original": {"en": "Original", "zh": "原文"},
    "evidence_original_page": {"en": "Original page", "zh": "原文页面"},
    "evidence_where_page": {
        "en": "**Page {page}** of {pages} · {name}",
        "zh": "**第 {page} 页**（共 {pages} 页）· {name}",
    },
    "evidence_where_passage": {
        "en": "**Passage {n}** of {count} · {name}",
        "zh": "**第 {n} 处**（共 {count} 处）· {name}",
    },
    "evidence_rendered_page": {
        "en": "rendered page {page} of {pages}",
        "zh": "渲染页第 {page} 页（共 {pages} 页）",
    },
    "evidence_enlarge_closest": {
        "en": "the blue box marks the closest passage; click the image to enlarge",
        "zh": "蓝框为最接近的段落；点击图片可放大",
    },
    "evidence_enlarge": {
        "en": "red boxes mark the evidence; click the image to enlarge",
        "zh": "红框为证据；点击图片可放大",
    },
    "evidence_no_original": {
        "en": "the original page cannot be shown (a locked or removed PDF): the passage is "
        "shown as text",
        "zh": "无法显示原文页面（PDF 已加密或已删除），以文字显示该段落",
    },
    "evidence_no_context": {
        "en": "the document is no longer open: only the cited text is shown",
        "zh": "该文档已不在当前会话中，仅显示引用的文字",
    },
    "show_in_preview": {"en": "Show in preview", "zh": "在预览中查看"},
    "check_near": {
        "en": "⚠ {value}: the document says {document}",
        "zh": "⚠ {value}：文档中为 {document}",
    },
    "check_absent": {
        "en": "⚠ {value}: not in the document",
        "zh": "⚠ {value}：文档中未找到",
    },
    "check_page": {"en": " (page {page})", "zh": "（第 {page} 页）"},
    "no_evidence": {"en": "No evidence located.", "zh": "未定位到证据。"},
    "no_evidence_closest": {
        "en": "No evidence located. The closest passage is outlined in blue below: it may not "
        "answer the question.",
        "zh": "未定位到证据。下方蓝框标出了最接近的段落：它未必回答了问题。",
    },
    "download_json": {"en": "Download answer (JSON)", "zh": "下载答案（JSON）"},
    "download_md": {"en": "Download answer (Markdown)", "zh": "下载答案（Markdown）"},
    "history": {"en": "Earlier answers", "zh": "历史答案"},
    "pages_read": {"en": "Page images read: {pages}", "zh": "已读页面图像：{pages}"},
    "pages_read_fine": {
        "en": "🔍 Page images read finely (re-rendered at high resolution): {pages}",
        "zh": "🔍 精读页面图像（以高分辨率重新渲染）：{pages}",
    },
    "coarse_to_fine_note": {
        "en": "coarse-to-fine: each question re-reads its best-matching pages finely",
        "zh": "由粗到细：每个问题以高分辨率精读最相关的页面",
    },
    # async queue (异步队列)
    "my_jobs": {"en": "My jobs (异步队列)", "zh": "我的任务（异步队列）"},
    "job_id": {"en": "Job id", "zh": "任务 ID"},
    "show_result": {"en": "Show result", "zh": "查看结果"},
    "refresh_jobs": {"en": "Refresh", "zh": "刷新"},
    "col_id": {"en": "Job", "zh": "任务"},
    "col_status": {"en": "Status", "zh": "状态"},
    "col_task": {"en": "Question · file", "zh": "问题 · 文档"},
    "col_created": {"en": "Time", "zh": "时间"},
    "jobs_hint": {
        "en": "Click a finished job to show its answer.",
        "zh": "点击已完成的任务即可查看其答案。",
    },
    "job_queued": {"en": "Queued", "zh": "排队中"},
    "job_running": {"en": "Running", "zh": "运行中"},
    "job_done": {"en": "Done", "zh": "已完成"},
    "job_failed": {"en": "Failed", "zh": "失败"},
    "job_cancelled": {"en": "Cancelled", "zh": "已取消"},
    "status_job_queued": {
        "en": "Job {id} queued — follow it under “My jobs” below.",
        "zh": "任务 {id} 已加入异步队列，可在下方“我的任务”中查看进度。",
    },
    "status_job_loaded": {"en": "Result of job {id}", "zh": "任务 {id} 的结果"},
    "batch_summary": {
        "en": "Batch: {done} of {total} items answered, {errors} errors. Results: {path}",
        "zh": "批处理：{total} 项中已回答 {done} 项，错误 {errors} 项。结果文件：{path}",
    },
    "err_too_many_jobs": {
        "en": "This session already has {limit} unfinished jobs (GLYPH_MAX_JOBS_PER_SESSION); "
        "please wait for one to finish.",
        "zh": "本会话已有 {limit} 个未完成的任务（GLYPH_MAX_JOBS_PER_SESSION），请等待其完成。",
    },
    "err_no_job_id": {"en": "Please enter a job id.", "zh": "请输入任务 ID。"},
    "err_job_not_done": {
        "en": "Job {id} is {status}. {detail}",
        "zh": "任务 {id} 状态：{status}。{detail}",
    },
    "err_job_result_missing": {
        "en": "The result files of job {id} are missing or damaged in the data dir; please "
        "submit the question again.",
        "zh": "数据目录中任务 {id} 的结果文件缺失或已损坏，请重新提交该问题。",
    },
    # account and safety (GLYPH_AUTH)
    "logout": {"en": "Log out", "zh": "退出登录"},
    "err_other_user": {
        "en": "This session belongs to another user; please reload the page.",
        "zh": "此会话属于其他用户，请刷新页面。",
    },
    "err_export": {
        "en": "The answer is shown, but its downloads could not be saved: {reason}",
        "zh": "答案已显示，但无法保存下载文件：{reason}",
    },
    # status and errors
    "status_ingest": {"en": "Reading the document…", "zh": "正在读取文档……"},
    "status_scan": {
        "en": "Reading scanned page {page} of {total} by OCR…",
        "zh": "正在识别扫描页：第 {page}/{total} 页……",
    },
    "kept_document": {
        "en": "The earlier document, {name}, is still open.",
        "zh": "之前的文档“{name}”仍保持打开。",
    },
    "drop_file": {"en": "Drop files here", "zh": "将文件拖放到此处"},
    "drop_or": {"en": "or", "zh": "或"},
    "drop_click": {"en": "click to choose", "zh": "点击选择文件"},
    "status_render": {"en": "Rendering pages…", "zh": "正在渲染页面……"},
    "status_reading": {"en": "Reading the page images…", "zh": "正在阅读页面图像……"},
    "status_done": {"en": "Done in {seconds:.1f} s", "zh": "完成，用时 {seconds:.1f} 秒"},
    "stop": {"en": "Stop", "zh": "停止"},
    "status_stopped": {"en": "Stopped.", "zh": "已停止。"},
    "err_no_document": {
        "en": "Please upload or paste a document first.",
        "zh": "请先上传或粘贴文档。",
    },
    "err_no_question": {"en": "Please type a question.", "zh": "请输入问题。"},
    # several documents (a collection)
    "status_open_n": {
        "en": "Opening {n} of {total}: {name}",
        "zh": "正在打开第 {n}/{total} 个：{name}",
    },
    "err_last_document": {
        "en": "The last document cannot be removed; upload another one to replace it.",
        "zh": "不能移除最后一个文档；请上传其他文档来替换它。",
    },
    "err_locked_in_batch": {
        "en": "'{name}' is password-protected: upload it on its own to enter its password.",
        "zh": "“{name}”有密码保护：请单独上传它，以便输入密码。",
    },
    "err_none_opened": {
        "en": "None of the {n} files could be opened.",
        "zh": "{n} 个文件都无法打开。",
    },
    "err_too_many_documents": {
        "en": "'{name}' was left out: a collection holds at most {limit} documents.",
        "zh": "“{name}”未加入：一个文档集最多包含 {limit} 个文档。",
    },
    "opened_some": {
        "en": "{n} of the files could not be opened; the others are open.",
        "zh": "有 {n} 个文件无法打开，其余文件已打开。",
    },
    "err_no_selection": {
        "en": "Tick at least one document for the question.",
        "zh": "请至少勾选一个要提问的文档。",
    },
    "doc_list": {
        "en": "Documents (questions go to the ticked ones)",
        "zh": "文档（问题只针对勾选的文档）",
    },
    "doc_not_opened": {
        "en": "Not opened ({n}): the other documents are open",
        "zh": "未能打开（{n} 个）：其余文档已打开",
    },
    "doc_entry": {"en": "{name} · {kind}{pages}", "zh": "{name} · {kind}{pages}"},
    "doc_entry_pages": {"en": " · {n} pages", "zh": " · {n} 页"},
    "doc_entry_page": {"en": " · 1 page", "zh": " · 1 页"},
    "add_docs": {"en": "➕ Add documents", "zh": "➕ 添加文档"},
    "preview_doc": {"en": "Document shown", "zh": "显示的文档"},
    "remove_doc": {"en": "Remove this document", "zh": "移除此文档"},
    "preview_of": {
        "en": "Showing {name}: page images {first}–{last} of {total}",
        "zh": "当前显示 {name}：第 {first}–{last} 张页面图像（共 {total} 张）",
    },
    "collections": {"en": "Saved collections", "zh": "已保存的文档集"},
    "coll_name": {"en": "Collection name", "zh": "文档集名称"},
    "coll_save": {"en": "Save the open documents", "zh": "保存当前文档"},
    "coll_list": {"en": "Your collections", "zh": "您的文档集"},
    "coll_open": {"en": "Open", "zh": "打开"},
    "coll_count": {"en": "{n} documents", "zh": "{n} 个文档"},
    "coll_delete": {"en": "Delete", "zh": "删除"},
    "coll_saved": {
        "en": "Saved “{name}” ({n} documents).",
        "zh": "已保存“{name}”（{n} 个文档）。",
    },
    "coll_deleted": {"en": "Deleted “{name}”.", "zh": "已删除“{name}”。"},
    "coll_opened": {"en": "Opened “{name}”.", "zh": "已打开“{name}”。"},
    "err_coll_name": {
        "en": "Please give the collection a name.",
        "zh": "请为文档集命名。",
    },
    "err_coll_missing": {
        "en": "That collection no longer exists (it may have been deleted).",
        "zh": "该文档集已不存在（可能已被删除）。",
    },
    "err_coll_empty": {
        "en": "There is nothing to save: open documents first.",
        "zh": "没有可保存的内容：请先打开文档。",
    },
    "err_unexpected": {
        "en": "Something went wrong ({kind}). Your document and earlier answers are kept; "
        "please try again.",
        "zh": "出现错误（{kind}）。您的文档和之前的答案已保留，请重试。",
    },
}


def t(key: str, lang: str = "en", **fmt: object) -> str:
    """The text for ``key`` in ``lang`` (falls back to English), formatted with ``fmt``."""
    entry = TEXTS[key]
    text = entry.get(lang) or entry["en"]
    return text.format(**fmt) if fmt else text


def pick_lang(value: str | None) -> str:
    """'zh' for any Chinese locale (zh, zh-CN, zh-TW, 中文 …), else 'en'."""
    if value and (value.lower().startswith("zh") or value.startswith("中")):
        return "zh"
    return "en"
