document.body.dataset.api = "__API_URL__";
